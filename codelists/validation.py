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

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection


class UnknownCodeSystem(LookupError):
    """The system key names no code system (a programming or configuration error)."""


@dataclass(frozen=True)
class CodeCheck:
    code: str
    ok: bool
    reason: str | None  # None | "unknown" | "retired" | "not_in_force" | "inactive"
    concept_id: int | None
    display_vi: str
    properties: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VersionRef:
    system_id: int
    version_id: int | None
    label: str
    stamp: str  # published_at: with the id, a key that cannot be reused by another version


_VERSION_SQL = """
SELECT s.id, v.id, v.label, v.published_at::text
FROM codelists_codesystem s
LEFT JOIN LATERAL (
    SELECT id, label, published_at FROM codelists_codesystemversion
    WHERE system_id = s.id AND status IN ('published', 'retired')
      AND effective_from <= %s AND (effective_to IS NULL OR %s < effective_to)
    ORDER BY effective_from DESC LIMIT 1
) v ON TRUE
WHERE s.key = %s
"""


def version_ref_in_force(system_key: str, on: date) -> VersionRef:
    """Return the system and the id of its version in force on the date (None if none)."""
    with connection.cursor() as cur:
        cur.execute(_VERSION_SQL, [on, on, system_key])
        row = cur.fetchone()
    if row is None:
        raise UnknownCodeSystem(system_key)
    return VersionRef(system_id=row[0], version_id=row[1], label=row[2] or "", stamp=row[3] or "")


def _concepts_in_version(version_id: int, codes: list[str]) -> dict[str, tuple]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, id, active, display_vi, properties FROM codelists_concept "
            "WHERE version_id = %s AND code = ANY(%s)",
            [version_id, codes],
        )
        # Django leaves jsonb undecoded on raw cursors.
        return {row[0]: (row[1], row[2], row[3], _props(row[4])) for row in cur.fetchall()}


def _props(value) -> dict:
    if isinstance(value, str):
        return json.loads(value)
    return value or {}


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
    """Validate many codes at once (three queries whatever their number)."""
    wanted = list(dict.fromkeys(str(c) for c in codes))
    ref = version_ref_in_force(system_key, on)
    if not wanted:
        return {}
    found = _concepts_in_version(ref.version_id, wanted) if ref.version_id else {}
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


_cache_lock = threading.Lock()
_codes_cache: dict[tuple[int, str], frozenset[str]] = {}
_CODES_CACHE_MAX = 64


def codes_in_force(system_key: str, on: date) -> frozenset[str]:
    """Return the active codes of the version in force on the date.

    One query to find the version; its codes are cached in the process by version id and
    publication time (a published version never changes, so the cache needs no expiry).
    """
    ref = version_ref_in_force(system_key, on)
    if ref.version_id is None:
        return frozenset()
    key = (ref.version_id, ref.stamp)
    cached = _codes_cache.get(key)
    if cached is not None:
        return cached
    with connection.cursor() as cur:
        cur.execute("SELECT code FROM codelists_concept WHERE version_id = %s AND active", [ref.version_id])
        codes = frozenset(row[0] for row in cur.fetchall())
    with _cache_lock:
        if len(_codes_cache) >= _CODES_CACHE_MAX:
            _codes_cache.clear()
        _codes_cache[key] = codes
    return codes


def concept_display(system_key: str, code: str, on: date) -> str | None:
    """Return the Vietnamese display of the code in the version in force, or None."""
    ref = version_ref_in_force(system_key, on)
    if ref.version_id is None:
        return None
    row = _concepts_in_version(ref.version_id, [str(code)]).get(str(code))
    return row[2] if row else None
