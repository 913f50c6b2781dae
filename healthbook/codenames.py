"""Vietnamese names of codes shown on the book pages, cached in the process.

A book page shows codes of several lists (ICD-10, lab indicators, vaccines, visit types…).
Names come from the version in force today (`codelists.validation`); the version found for a
list is remembered for VERSION_TTL seconds and the names by (version, code) for good — a
published version never changes — so a warm page asks the database nothing, and a cold one
asks at most two queries per list, whatever the number of codes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from django.utils import timezone

from codelists.validation import UnknownCodeSystem, _concepts_in_version, version_ref_in_force

VERSION_TTL = 300.0
_MAX_NAMES = 200_000
_lock = threading.Lock()
_versions: dict[str, tuple[float, int | None]] = {}
_names: dict[tuple[int, str], tuple[str, dict]] = {}


def _version_id(system_key: str) -> int | None:
    now = time.monotonic()
    cached = _versions.get(system_key)
    if cached and now - cached[0] < VERSION_TTL:
        return cached[1]
    try:
        ref = version_ref_in_force(system_key, timezone.localdate())
        version_id = ref.version_id
    except UnknownCodeSystem:
        version_id = None
    with _lock:
        _versions[system_key] = (now, version_id)
    return version_id


def concepts(system_key: str, codes: Iterable[str]) -> dict[str, tuple[str, dict]]:
    """Return code → (Vietnamese name, properties) for the codes found in the list."""
    wanted = {str(c) for c in codes if c}
    version_id = _version_id(system_key)
    if not wanted or version_id is None:
        return {}
    missing = [c for c in wanted if (version_id, c) not in _names]
    if missing:
        found = _concepts_in_version(version_id, missing)
        with _lock:
            if len(_names) > _MAX_NAMES:
                _names.clear()
            for code in missing:
                row = found.get(code)
                _names[(version_id, code)] = (row[2], row[3]) if row else ("", {})
    return {c: _names[(version_id, c)] for c in wanted if _names.get((version_id, c), ("",))[0]}


def names(system_key: str, codes: Iterable[str]) -> dict[str, str]:
    """Return code → Vietnamese name (codes not in the list are left out)."""
    return {code: value[0] for code, value in concepts(system_key, codes).items()}


def all_concepts(system_key: str) -> dict[str, tuple[str, dict]]:
    """Every active concept of a small list (the vaccine schedule), cached like the names."""
    version_id = _version_id(system_key)
    if version_id is None:
        return {}
    key = (version_id, "\x00all")
    cached = _names.get(key)
    if cached is None:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(
                "SELECT code FROM codelists_concept WHERE version_id = %s AND active ORDER BY code", [version_id]
            )
            codes = [row[0] for row in cur.fetchall()]
        found = _concepts_in_version(version_id, codes) if codes else {}
        cached = ("", {code: (row[2], row[3]) for code, row in found.items()})
        with _lock:
            _names[key] = cached
    return cached[1]


def clear() -> None:
    """Forget everything (tests that publish new versions)."""
    with _lock:
        _versions.clear()
        _names.clear()
