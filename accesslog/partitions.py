"""The access log's monthly partitions (migration 0007; docs/scale.md): created ahead, watched.

Partitions are DDL on the access log, which the application role may not do (issue 15, T6): the
job connects as the owner role (DATABASE_OWNER_URL), in a connection of its own, and calls
`accesslog_partition_create(month)` (the migration's SQL function, executable by the owner only)
for the current month and the SSKDT_ACCESS_LOG_PARTITIONS_AHEAD months after it. Without an owner
URL (development, one role) the default connection is the owner.

Health: an entry in the DEFAULT partition means its month had no partition when it was written
(the job did not run for months, or a clock far off); nothing is lost, but the month's partition
can then not be attached until those rows are moved by the owner (docs/doctor-book.md). The job
and `manage.py accesslog_partitions --check` report it, and report fewer months ahead than asked.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone

SCHEMA = "accesslog_partitions"


@contextmanager
def owner_cursor():
    """A cursor as the owner role: the default connection when it is the owner already (one role
    in development; the tests), else a connection of its own to the same database with
    DATABASE_OWNER_URL's credentials, in autocommit (each partition attached on its own)."""
    owner = getattr(settings, "DATABASE_OWNER", None)
    current = connection.settings_dict
    if not owner or owner.get("USER") == current.get("USER"):
        connection.ensure_connection()
        with connection.cursor() as cur:
            yield cur
        return
    params = {
        "dbname": current["NAME"],
        "user": owner["USER"],
        "password": owner.get("PASSWORD") or None,
        "host": owner.get("HOST") or None,
        "port": owner.get("PORT") or None,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn, conn.cursor() as cur:
        yield cur


def months_from(first: dt.date, count: int) -> list[dt.date]:
    months, year, month = [], first.year, first.month
    for _ in range(count):
        months.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass(frozen=True)
class PartitionState:
    created: list[str]
    months_ahead: int  # whole months after the current one that have a partition
    in_default: int  # entries in the DEFAULT partition (0 when healthy)
    wanted_ahead: int

    @property
    def ok(self) -> bool:
        return self.in_default == 0 and self.months_ahead >= self.wanted_ahead

    def line(self) -> str:
        made = ", ".join(self.created) or "none"
        state = "OK" if self.ok else "ATTENTION"
        return (
            f"{state}: partitions created: {made}; {self.months_ahead} month(s) ahead "
            f"(wanted {self.wanted_ahead}); {self.in_default} entries in the default partition"
        )


def partitions_ensure(ahead: int | None = None, *, today: dt.date | None = None, create: bool = True) -> PartitionState:
    """Create the partitions of this month and `ahead` months after it (as the owner role) and
    say how the log stands."""
    ahead = settings.SSKDT_ACCESS_LOG_PARTITIONS_AHEAD if ahead is None else ahead
    today = today or timezone.now().astimezone(dt.UTC).date()
    months = months_from(today.replace(day=1), ahead + 1)
    created = []
    with owner_cursor() as cur:
        if create:
            for month in months:
                cur.execute("SELECT accesslog_partition_create(%s)", [month])
                name = cur.fetchone()[0]
                if name:
                    created.append(name)
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'public.accesslog_entry'::regclass"
        )
        present = {r[0] for r in cur.fetchall()}
        cur.execute(f"SELECT count(*) FROM {SCHEMA}.accesslog_entry_default")  # noqa: S608 — constant
        in_default = cur.fetchone()[0]
    have = 0
    for month in months_from(months[0], 121)[1:]:
        if f"accesslog_entry_{month:%Y_%m}" not in present:
            break
        have += 1
    return PartitionState(created, have, in_default, ahead)
