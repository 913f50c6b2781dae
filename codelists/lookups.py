"""What a code means: the reads of code lists every other part of the portal uses.

- `concepts` / `names`: the Vietnamese name and properties of codes, in the version in force
  on a date (today by default);
- `all_concepts`: every active concept of a small list;
- `vaccination_schedule`: the expanded-immunisation schedule (list `vaccine`, property
  `schedule`), one definition for the book pages and the reminders;
- `group_prefixes` / `in_group`: the named code groups of a list (CodeSystem.groups; ICD-10:
  chronic conditions, recorded allergies) as code prefixes.

Which version is in force comes from `codelists.in_force` (one cache, forgotten by every
process when a version is published). What is read from a version is cached by its id, for
good: a published version never changes. A warm lookup asks the database nothing; a cold one at
most two queries per list, whatever the number of codes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.utils import timezone

from codelists.in_force import UnknownCodeSystem, system_groups, version_in_force

VACCINE_SYSTEM = "vaccine"
AGE_UNITS = ("day", "week", "month", "year")

_MAX_ENTRIES = 400_000
_lock = threading.Lock()
# (version id, code) -> (concept id, active, Vietnamese name, properties), or None when the code
# is not in that version
_rows: dict[tuple[int, str], tuple | None] = {}
# (version id, what) -> derived value (all concepts, the schedule, the groups)
_derived: dict[tuple[int, str], object] = {}


def forget() -> None:
    """Drop the per-version caches (tests; a version never changes, so nothing else needs it)."""
    with _lock:
        _rows.clear()
        _derived.clear()


def concepts_in_version(version_id: int, codes: list[str]) -> dict[str, tuple]:
    """code -> (concept id, active, display_vi, properties) for the codes found (one query)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT code, id, active, display_vi, properties FROM codelists_concept "
            "WHERE version_id = %s AND code = ANY(%s)",
            [version_id, codes],
        )
        return {row[0]: (row[1], row[2], row[3], _props(row[4])) for row in cur.fetchall()}


def concept_rows(version_id: int, codes: Iterable[str]) -> dict[str, tuple | None]:
    """code -> (concept id, active, display_vi, properties), or None when the code is not in the
    version; codes seen before in this version cost no query (a version never changes)."""
    wanted = list(dict.fromkeys(str(c) for c in codes))
    missing = [c for c in wanted if (version_id, c) not in _rows]
    found = concepts_in_version(version_id, missing) if missing else {}
    with _lock:
        if len(_rows) + len(missing) > _MAX_ENTRIES:
            _rows.clear()
        for code in missing:
            _rows[(version_id, code)] = found.get(code)
        return {c: _rows.get((version_id, c), found.get(c)) for c in wanted}


def active_codes_in_version(version_id: int) -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT code FROM codelists_concept WHERE version_id = %s AND active ORDER BY code", [version_id])
        return [row[0] for row in cur.fetchall()]


def _props(value) -> dict:
    if isinstance(value, str):  # Django leaves jsonb undecoded on raw cursors
        return json.loads(value)
    return value or {}


def _version_id(system_key: str, on: date | None) -> int | None:
    try:
        return version_in_force(system_key, on or timezone.localdate()).version_id
    except UnknownCodeSystem:
        return None


def concepts(system_key: str, codes: Iterable[str], *, on: date | None = None) -> dict[str, tuple[str, dict]]:
    """Return code -> (Vietnamese name, properties) for the codes found in the version in force."""
    wanted = {str(c) for c in codes if c}
    version_id = _version_id(system_key, on)
    if not wanted or version_id is None:
        return {}
    rows = concept_rows(version_id, wanted)
    return {code: (row[2], row[3]) for code, row in rows.items() if row is not None and row[2]}


def names(system_key: str, codes: Iterable[str], *, on: date | None = None) -> dict[str, str]:
    """Return code -> Vietnamese name (codes not in the list are left out)."""
    return {code: value[0] for code, value in concepts(system_key, codes, on=on).items()}


def _derive(version_id: int, what: str, build):
    key = (version_id, what)
    value = _derived.get(key)
    if value is None:
        value = build()
        with _lock:
            _derived[key] = value
    return value


def active_codes(version_id: int) -> frozenset[str]:
    """The active codes of one version (a published version never changes: cached for good)."""
    return _derive(version_id, "active", lambda: frozenset(active_codes_in_version(version_id)))


def all_concepts(system_key: str, *, on: date | None = None) -> dict[str, tuple[str, dict]]:
    """Every active concept of a small list: code -> (Vietnamese name, properties)."""
    version_id = _version_id(system_key, on)
    if version_id is None:
        return {}

    def build():
        codes = active_codes_in_version(version_id)
        found = concepts_in_version(version_id, codes) if codes else {}
        return {code: (row[2], row[3]) for code, row in sorted(found.items())}

    return _derive(version_id, "all", build)


# ---------------------------------------------------------------- the immunisation schedule


@dataclass(frozen=True)
class ScheduledDose:
    """One dose of the schedule. `position` is its place among the doses of its vaccine (the
    dose counts as given once that many doses of the vaccine are recorded); `dose` is the dose
    number the list states (a booster may be dose 4 of a series given under other codes)."""

    vaccine_code: str
    vaccine_name: str
    position: int
    dose: int
    age_value: int
    age_unit: str  # one of AGE_UNITS
    note: str = ""


def vaccination_schedule(on: date | None = None) -> list[ScheduledDose]:
    """The doses of the `vaccine` list in force on the date (default today), by vaccine code and
    position. Entries without a usable age (unit and whole number) are left out: the list marks
    such entries unverified."""
    version_id = _version_id(VACCINE_SYSTEM, on)
    if version_id is None:
        return []

    def build():
        doses = []
        for code, (name, props) in all_concepts(VACCINE_SYSTEM, on=on).items():
            for position, item in enumerate(props.get("schedule") or [], start=1):
                age = item.get("age") or {}
                unit, value = age.get("unit"), age.get("value")
                if unit not in AGE_UNITS or not isinstance(value, int) or value < 0:
                    continue
                dose = item.get("dose")
                doses.append(
                    ScheduledDose(
                        vaccine_code=code,
                        vaccine_name=name,
                        position=position,
                        dose=dose if isinstance(dose, int) else position,
                        age_value=value,
                        age_unit=unit,
                        note=item.get("note", "") or "",
                    )
                )
        return tuple(doses)

    return list(_derive(version_id, "schedule", build))


# ---------------------------------------------------------------- code groups


def group_prefixes(system_key: str, group: str) -> tuple[str, ...]:
    """The code prefixes of a named group of a list (CodeSystem.groups); empty when the list or
    the group is not defined. Cached with the list's versions (forgotten on change)."""
    return tuple(str(p) for p in system_groups(system_key).get(group) or ())


def in_group(code: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a code falls in a group given by its prefixes ("E11" holds "E11.9")."""
    return bool(prefixes) and code.startswith(prefixes)
