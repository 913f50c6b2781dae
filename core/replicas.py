"""Read replicas: reads that tolerate lag go to a streaming replica; every other read stays on the
primary (issue 21, point 3; docs/scale.md).

Nothing is routed unless code asks: a view or selector marks the reads that tolerate lag with
`lag_tolerant()` (a context manager and a decorator) once access is decided — dashboards,
code-list browsing, the citizen search, the content of a book page. Inside such a block a read
goes to a replica listed in `DATABASE_REPLICA_URLS`, except:

- the request has written to the primary (a table its app has not declared *isolated*, see
  below): every later read of the request stays on the primary, since a replica need not have the
  write yet; a write to an isolated table (the access log, the session) keeps only the reads of
  that table on the primary;
- the primary's connection is inside a transaction (`transaction.atomic`): the transaction's
  own reads must see its writes and its snapshot;
- no replica is fresh enough: each replica's lag (`pg_last_xact_replay_timestamp()` against its
  WAL receive and replay positions, `pg_stat_wal_receiver` for a broken stream) is measured at
  most every `DATABASE_REPLICA_LAG_CACHE_SECONDS` per process, and a replica behind by more
  than `DATABASE_REPLICA_MAX_LAG_SECONDS`, or not answering, gets no reads;
- the block's own freshness test (`fresh=`, e.g. "the replica has the book's content version
  the access decision saw") fails on the chosen replica.

Everything outside a block — the access decision, the access-log append, logins, writes and
whatever follows them — runs on the primary as before. After a request that wrote, the browser
gets a short cookie that keeps its next requests on the primary for the threshold's length, so
a page shown after a POST-redirect-GET sees the POST (`ReplicaStickinessMiddleware`).

With `DATABASE_REPLICA_URLS` unset there is no router, no middleware and no write tracking:
`lag_tolerant()` does nothing and `connection` is Django's default connection.

The state lives per request (reset by the middleware); outside requests (a task, a command) it
lives as long as the thread, so a write there keeps that thread on the primary for good — no
task marks its reads lag-tolerant today.

Writes are seen where they are sent: the SQL text of every statement on the primary's
connection (ORM and raw cursors alike) is scanned for INSERT/UPDATE/DELETE/MERGE/TRUNCATE/COPY
and the table named. Writes done by a trigger or a function are not seen, so an app declares a
table isolated (`AppConfig.replica_isolated_tables`) only when writing it changes no other table.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.signals import request_started
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

PREFIX = "replica_"
STICKY_COOKIE = "sskdt_primary"
# Tables whose writes change no other table, whatever app they belong to (Django's session and
# database cache). Apps add theirs with AppConfig.replica_isolated_tables.
BASE_ISOLATED = frozenset({"django_session"})
# Models never read from a replica: the cache (rate limits and counters must be current) and the
# session (read at the start of every request, written at its end).
NEVER_ROUTED_APPS = frozenset({"django_cache", "sessions"})

_WRITE = re.compile(
    r"(?<!FOR )(?<!KEY )(?<!DO )\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO|TRUNCATE(?:\s+TABLE)?|COPY)"
    r"\s+(?:ONLY\s+)?(?:\"?[A-Za-z_][\w$]*\"?\.)?\"?([A-Za-z_][\w$]*)\"?",
    re.IGNORECASE,
)

# Seconds the replica is behind the primary: 0 when it has replayed all it received and its WAL
# receiver runs, else the age of the last transaction it replayed (an idle primary with a broken
# stream shows as growing lag, never as none). NULL when it is not a replica. The application
# role sees only the receiver's pid in pg_stat_wal_receiver (its status needs pg_read_all_stats);
# a receiver cut off without a reset dies after wal_receiver_timeout (60 s by default).
LAG_SQL = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN NULL
  WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) THEN 0
  ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 1e9)
END
"""


def enabled() -> bool:
    return bool(getattr(settings, "DATABASE_REPLICA_URLS", None))


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(PREFIX)]


def is_replica(alias: str) -> bool:
    return alias.startswith(PREFIX)


def database_settings(urls: list[str], default: dict, parse: Callable[[str], dict]) -> dict[str, dict]:
    """The DATABASES entries of the replicas (config/settings.py): same options as the primary
    (prepared statements, health checks), a short connect timeout so that a dead replica costs a
    request at most that long (and then no more until the next lag check), and, in tests, the
    primary's test database (no database of their own is created)."""
    out = {}
    for i, url in enumerate(urls, start=1):
        entry = parse(url)
        entry["CONN_HEALTH_CHECKS"] = True
        entry["OPTIONS"] = {**default.get("OPTIONS", {}), **entry.get("OPTIONS", {})}
        entry["OPTIONS"].setdefault("connect_timeout", 3)
        entry["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
        out[f"{PREFIX}{i}"] = entry
    return out


# ---------------------------------------------------------------- the request's state


@dataclass
class _Unit:
    """One request (or, outside requests, the thread): what it wrote and its open block."""

    written: set[str] = field(default_factory=set)
    pinned: bool = False  # every later read on the primary (a write below, or the sticky cookie)
    wrote: bool = False  # wrote a table that is not isolated
    alias: str | None = None  # the open lag-tolerant block's database (None: no block)
    depth: int = 0


_unit: ContextVar[_Unit | None] = ContextVar("sskdt_replica_unit", default=None)


def _current() -> _Unit:
    unit = _unit.get()
    if unit is None:
        unit = _Unit()
        _unit.set(unit)
    return unit


def _new_request(**kwargs) -> None:
    _unit.set(_Unit())


_isolated_cache: frozenset[str] | None = None


def isolated_tables() -> frozenset[str]:
    global _isolated_cache
    if _isolated_cache is None:
        tables = set(BASE_ISOLATED)
        for config in apps.get_app_configs():
            tables.update(getattr(config, "replica_isolated_tables", ()) or ())
        _isolated_cache = frozenset(tables)
    return _isolated_cache


def note_write(sql: str) -> None:
    """Record the tables a statement sent to the primary writes."""
    if not isinstance(sql, str):
        sql = str(sql)
    tables = {m.group(1).lower() for m in _WRITE.finditer(sql)}
    if not tables:
        return
    unit = _current()
    unit.written |= tables
    if not tables <= isolated_tables():
        unit.pinned = unit.wrote = True


def wrote() -> bool:
    """Whether this request has written anything that pins its reads to the primary."""
    return _current().wrote


def _track_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    note_write(sql)  # after it ran: a failed statement wrote nothing (its transaction is gone)
    return result


def _install_tracking(sender, connection, **kwargs) -> None:
    if connection.alias == DEFAULT_DB_ALIAS and not getattr(connection, "_sskdt_tracks_writes", False):
        connection.execute_wrappers.append(_track_writes)
        connection._sskdt_tracks_writes = True


# ---------------------------------------------------------------- replica lag


_lag: dict[str, tuple[float, float | None]] = {}  # alias -> (measured at, monotonic; lag or None)
_lag_lock = threading.Lock()


def _measure(alias: str) -> float | None:
    connection = connections[alias]
    try:
        with connection.cursor() as cur:
            cur.execute(LAG_SQL)
            (lag,) = cur.fetchone()
        return None if lag is None else float(lag)
    except DatabaseError:
        logger.warning("replica %s did not answer the lag check; reads go to the primary", alias)
        with contextlib.suppress(DatabaseError):
            connection.close()
        return None


def replica_lag(alias: str) -> float | None:
    """The replica's lag in seconds (None: unreachable or not a replica), measured at most every
    DATABASE_REPLICA_LAG_CACHE_SECONDS in this process."""
    now = time.monotonic()
    cached = _lag.get(alias)
    if cached is not None and now - cached[0] < settings.DATABASE_REPLICA_LAG_CACHE_SECONDS:
        return cached[1]
    with _lag_lock:  # one measurement per interval and process; the others use the last value
        cached = _lag.get(alias)
        if cached is not None and time.monotonic() - cached[0] < settings.DATABASE_REPLICA_LAG_CACHE_SECONDS:
            return cached[1]
        lag = _measure(alias)
        _lag[alias] = (time.monotonic(), lag)
        return lag


def forget_lag() -> None:
    _lag.clear()


def healthy_replicas() -> list[str]:
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    return [a for a in replica_aliases() if (lag := replica_lag(a)) is not None and lag <= limit]


# ---------------------------------------------------------------- routing


def read_alias(table: str | None = None) -> str:
    """The database a read of `table` (None: a raw query) goes to now."""
    unit = _unit.get()
    if unit is None or unit.alias is None or unit.alias == DEFAULT_DB_ALIAS:
        return DEFAULT_DB_ALIAS
    if unit.pinned or (table is not None and table in unit.written):
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return unit.alias


@contextlib.contextmanager
def lag_tolerant(fresh: Callable | None = None) -> Iterator[str]:
    """Mark the reads inside as tolerating replica lag; yields the database chosen for the block
    ("default" when it stays on the primary). Usable as a decorator. `fresh(connection)` may
    refuse the chosen replica (return False) — e.g. when it has not replayed a version the
    primary already showed. Nested blocks keep the outer block's choice."""
    if not enabled():
        yield DEFAULT_DB_ALIAS
        return
    unit = _current()
    if unit.depth:
        unit.depth += 1
        try:
            yield read_alias()
        finally:
            unit.depth -= 1
        return
    alias = DEFAULT_DB_ALIAS
    if not unit.pinned and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        candidates = healthy_replicas()
        if candidates:
            alias = random.choice(candidates)  # noqa: S311 — spreading load, not a secret
            if fresh is not None and not _fresh(fresh, alias):
                alias = DEFAULT_DB_ALIAS
    unit.alias, unit.depth = alias, 1
    try:
        yield alias
    finally:
        unit.alias, unit.depth = None, 0


def _fresh(test: Callable, alias: str) -> bool:
    try:
        return bool(test(connections[alias]))
    except DatabaseError:
        logger.warning("replica %s failed a freshness test; reads go to the primary", alias)
        _lag[alias] = (time.monotonic(), None)
        return False


class _ReadConnection:
    """`connection` for raw reads: the primary, or, inside a lag-tolerant block, its replica.
    A module whose raw SQL may be served by a replica imports this in place of Django's."""

    def __getattr__(self, name):
        return getattr(connections[read_alias()], name)

    def __repr__(self) -> str:
        return f"<read connection {read_alias()}>"


connection = _ReadConnection()


class ReplicaRouter:
    """DATABASE_ROUTERS entry (only when DATABASE_REPLICA_URLS is set)."""

    def db_for_read(self, model, **hints):
        if model._meta.app_label in NEVER_ROUTED_APPS:
            return DEFAULT_DB_ALIAS
        return read_alias(model._meta.db_table)

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas are copies of the primary: every row is related as there

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaStickinessMiddleware:
    """After a request that wrote, the browser's next requests read from the primary for as long
    as a replica may be behind (threshold + measuring interval): a page shown right after a POST
    shows what the POST saved. Without the cookie lag-tolerant blocks may use a replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _new_request()
        sticky_until = request.COOKIES.get(STICKY_COOKIE, "")
        if sticky_until.isdigit() and int(sticky_until) > time.time():
            _current().pinned = True
        response = self.get_response(request)
        if _current().wrote:
            seconds = int(settings.DATABASE_REPLICA_MAX_LAG_SECONDS + settings.DATABASE_REPLICA_LAG_CACHE_SECONDS) + 1
            response.set_cookie(
                STICKY_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def connect_signals() -> None:
    """Called by core's AppConfig.ready(): write tracking and a fresh state per request, only
    when replicas are configured."""
    if enabled():
        connection_created.connect(_install_tracking, dispatch_uid="sskdt-replica-writes")
        request_started.connect(_new_request, dispatch_uid="sskdt-replica-request")


# ---------------------------------------------------------------- system checks


@checks.register(checks.Tags.database)
def check_replica_roles(app_configs=None, **kwargs):
    """A replica is read as the application role, the one role the portal runs as (a replica is a
    copy of the primary: its roles and grants are the primary's; config/dbroles.py)."""
    errors = replica_role_errors(settings.DATABASES, settings.SSKDT_DATABASE_APP_ROLE)
    if replica_aliases() and settings.DATABASE_REPLICA_MAX_LAG_SECONDS <= 0:
        errors.append(
            checks.Error("DATABASE_REPLICA_MAX_LAG_SECONDS must be above 0.", id="sskdt.E011"),
        )
    return errors


def replica_role_errors(databases: dict, role: str) -> list:
    errors = []
    for alias, entry in databases.items():
        if is_replica(alias) and entry.get("USER") != role:
            errors.append(
                checks.Error(
                    f"DATABASE_REPLICA_URLS: {alias} connects as {entry.get('USER')!r}, not as the application "
                    f"role {role!r} of DATABASE_URL.",
                    hint="Use DATABASE_URL's user (and password) on every replica.",
                    id="sskdt.E010",
                )
            )
    return errors
