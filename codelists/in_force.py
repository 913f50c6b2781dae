"""Which version of a code list is in force on a date: the one answer, cached in each process and
forgotten by every process as soon as a version is published, retired or re-dated.

"The version in force on a date" is the published or retired version whose
[effective_from, effective_to) holds that date. Each process keeps the published and retired
versions of the lists it has asked about (a few rows per list) and answers from memory; a
published version never changes, so only the set of versions and their periods can go stale.

How a process learns of a change, without asking the database on every lookup:

- a statement trigger on the version table (migration 0005) sends a PostgreSQL notification
  on channel `sskdt_codelists` with each change, delivered when the change commits;
- every database connection of the portal LISTENs on that channel from the moment it opens
  (`connection_listen`, connected in CodelistsConfig.ready), and each lookup first reads
  whatever notifications have already arrived on this thread's connection — a non-blocking
  read of the socket, no round trip;
- a change made by this process bumps its cache at once (model signals), so it sees its own
  change even before the commit (and a test sees a version it has just created);
- a new connection (its first LISTEN, or one reopened after a drop, which may have missed a
  notification) bumps the cache too.

Where the connection cannot LISTEN (a pooler in transaction mode: SSKDT_CODELISTS_LISTEN=0),
the cache is forgotten at the start of every request and every task instead.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

CHANNEL = "sskdt_codelists"


class UnknownCodeSystem(LookupError):
    """The system key names no code system (a programming or configuration error)."""


@dataclass(frozen=True)
class VersionRef:
    system_id: int
    version_id: int | None
    label: str
    stamp: str  # published_at: with the id, a key that cannot be reused by another version


@dataclass(frozen=True)
class _Version:
    id: int
    label: str
    stamp: str
    effective_from: date
    effective_to: date | None


_lock = threading.Lock()
_epoch = itertools.count(1)
_state = {"epoch": next(_epoch)}


@dataclass(frozen=True)
class _System:
    id: int
    groups: dict  # group name -> code prefixes (CodeSystem.groups)
    versions: tuple[_Version, ...]  # newest first


# system key -> (epoch when read, the system)
_systems: dict[str, tuple[int, _System]] = {}


def forget() -> None:
    """Drop everything cached: the next lookup reads the versions again."""
    with _lock:
        _state["epoch"] = next(_epoch)
        _systems.clear()


def epoch() -> int:
    """The current cache generation, after reading the notifications that have arrived (callers
    that cache what they derive from the versions in force key it with this)."""
    _poll()
    return _state["epoch"]


_VERSIONS_SQL = """
SELECT s.id, s.groups, v.id, v.label, v.published_at::text, v.effective_from, v.effective_to
FROM codelists_codesystem s
LEFT JOIN codelists_codesystemversion v
       ON v.system_id = s.id AND v.status IN ('published', 'retired') AND v.effective_from IS NOT NULL
WHERE s.key = %s
ORDER BY v.effective_from DESC, v.id DESC
"""


def _system(system_key: str) -> _System:
    current = epoch()
    hit = _systems.get(system_key)
    if hit is not None and hit[0] == current:
        return hit[1]
    with connection.cursor() as cur:
        cur.execute(_VERSIONS_SQL, [system_key])
        rows = cur.fetchall()
    if not rows:
        raise UnknownCodeSystem(system_key)
    groups = rows[0][1]
    system = _System(
        id=rows[0][0],
        groups=json.loads(groups) if isinstance(groups, str) else (groups or {}),
        versions=tuple(_Version(r[2], r[3] or "", r[4] or "", r[5], r[6]) for r in rows if r[2] is not None),
    )
    with _lock:
        if _state["epoch"] == current:
            _systems[system_key] = (current, system)
    return system


def version_in_force(system_key: str, on: date) -> VersionRef:
    """Return the system and its version in force on the date (version_id None if none)."""
    system = _system(system_key)
    for v in system.versions:
        if v.effective_from <= on and (v.effective_to is None or on < v.effective_to):
            return VersionRef(system_id=system.id, version_id=v.id, label=v.label, stamp=v.stamp)
    return VersionRef(system_id=system.id, version_id=None, label="", stamp="")


def system_groups(system_key: str) -> dict:
    """The named code groups of a list (group name -> code prefixes); {} for an unknown list."""
    try:
        return _system(system_key).groups
    except UnknownCodeSystem:
        return {}


# ---------------------------------------------------------------- change notifications


def _on_notify(notify) -> None:
    if notify.channel == CHANNEL:
        forget()


def _poll() -> None:
    """Read the notifications already on this thread's connection (no round trip)."""
    raw = getattr(connection, "connection", None)
    if raw is None or not getattr(raw, "_sskdt_codelists_listening", False) or raw.closed:
        return
    pgconn = raw.pgconn
    try:
        pgconn.consume_input()
    except Exception:  # noqa: BLE001 — a broken connection: Django reconnects and the new one bumps the cache
        forget()
        return
    while (notify := pgconn.notifies()) is not None:
        if pgconn.notify_handler is not None:
            pgconn.notify_handler(notify)


def connection_listen(sender, connection, **kwargs) -> None:
    """On every new PostgreSQL connection: LISTEN for code-list changes (one statement on the raw
    connection, in autocommit), and forget the cache (a reconnect may have missed a change)."""
    if connection.vendor != "postgresql" or connection.alias != "default":
        return
    forget()
    if not getattr(settings, "SSKDT_CODELISTS_LISTEN", True):
        return
    raw = connection.connection
    try:
        raw.add_notify_handler(_on_notify)
        raw.execute(f"LISTEN {CHANNEL}")
    except Exception:  # noqa: BLE001 — without LISTEN the cache is forgotten per request instead
        logger.warning("code lists: could not LISTEN on the new connection", exc_info=True)
        return
    raw._sskdt_codelists_listening = True


def forget_unless_listening(**kwargs) -> None:
    """At the start of a request or task when notifications are switched off."""
    if not getattr(settings, "SSKDT_CODELISTS_LISTEN", True):
        forget()


def version_changed(sender, **kwargs) -> None:
    """A version was written by this process (model signal): forget at once."""
    forget()
