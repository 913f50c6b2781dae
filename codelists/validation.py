"""Validate codes against the version of a code list in force on a date.

This is the interface every other part of the portal uses (books, intake, dashboards).
"The version in force on a date" is the published or retired version whose
[effective_from, effective_to) holds that date.

Reasons when a code is not acceptable:
- "unknown": the code is in no published version of the list;
- "retired": the code was in force earlier and the ministry withdrew it — it is gone from the
  version in force, or it is there flagged inactive after having been active before;
- "inactive": the code is in the version in force but flagged inactive, and was never active;
- "not_in_force": the code exists only in a version that takes effect after the date (or no
  version of the list is in force that day and the code is in a later one).

Bulk callers use `codes_validate`: three SQL queries whatever the number of codes.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection

from codelists.in_force import UnknownCodeSystem, VersionRef, version_in_force
from codelists.lookups import active_codes, concept_rows

__all__ = [
    "CodeCheck",
    "UnknownCodeSystem",
    "VersionRef",
    "code_validate",
    "codes_in_force",
    "codes_validate",
    "concept_display",
    "version_in_force",
]


@dataclass(frozen=True)
class CodeCheck:
    code: str
    ok: bool
    reason: str | None  # None | "unknown" | "retired" | "not_in_force" | "inactive"
    concept_id: int | None
    display_vi: str
    properties: dict = field(default_factory=dict)


def _history_of(ref: VersionRef, codes: list[str], on: date) -> dict[str, tuple[bool, bool, bool]]:
    """Return code → (in an earlier version, active in an earlier version, in a later version)."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.code,
                   bool_or(v.effective_from <= %s),
                   bool_or(v.effective_from <= %s AND c.active),
                   bool_or(v.effective_from > %s)
            FROM codelists_concept c
            JOIN codelists_codesystemversion v ON v.id = c.version_id
            WHERE v.system_id = %s AND v.status IN ('published', 'retired')
              AND v.id IS DISTINCT FROM %s AND c.code = ANY(%s)
            GROUP BY c.code
            """,
            [on, on, on, ref.system_id, ref.version_id, codes],
        )
        return {row[0]: (row[1], row[2], row[3]) for row in cur.fetchall()}


def codes_validate(system_key: str, codes: Iterable[str], on: date) -> dict[str, CodeCheck]:
    """Validate many codes at once (three queries at most whatever their number; codes of the
    version in force seen before cost none)."""
    wanted = list(dict.fromkeys(str(c) for c in codes))
    ref = version_in_force(system_key, on)
    if not wanted:
        return {}
    rows = concept_rows(ref.version_id, wanted) if ref.version_id else {}
    found = {code: row for code, row in rows.items() if row is not None}
    result: dict[str, CodeCheck] = {}
    doubtful: list[str] = []
    for code in wanted:
        row = found.get(code)
        if row is not None and row[1]:
            result[code] = CodeCheck(code, True, None, row[0], row[2], row[3] or {})
        else:
            doubtful.append(code)
    if not doubtful:
        return result
    history = _history_of(ref, doubtful, on)
    for code in doubtful:
        earlier, active_earlier, later = history.get(code, (False, False, False))
        row = found.get(code)
        if row is not None:
            reason = "retired" if active_earlier else "inactive"
            result[code] = CodeCheck(code, False, reason, row[0], row[2], row[3] or {})
            continue
        if earlier:
            reason = "retired"
        elif later:
            reason = "not_in_force"
        else:
            reason = "unknown"
        result[code] = CodeCheck(code, False, reason, None, "", {})
    return result


def code_validate(system_key: str, code: str, on: date) -> CodeCheck:
    """Validate one code against the version in force on the date."""
    return codes_validate(system_key, [code], on)[str(code)]


def codes_in_force(system_key: str, on: date) -> frozenset[str]:
    """Return the active codes of the version in force on the date (cached with the version)."""
    ref = version_in_force(system_key, on)
    if ref.version_id is None:
        return frozenset()
    return active_codes(ref.version_id)


def concept_display(system_key: str, code: str, on: date) -> str | None:
    """Return the Vietnamese display of the code in the version in force, or None."""
    ref = version_in_force(system_key, on)
    if ref.version_id is None:
        return None
    row = concept_rows(ref.version_id, [str(code)]).get(str(code))
    return row[2] if row else None
