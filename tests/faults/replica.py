"""R12 harness: a throwaway primary (initdb, its own port) filled from pytest's test database, the
two database roles on it (config/dbroles.py, core/dbroles.py), and a streaming replica made from
it with `pg_basebackup -R` on another port. Both servers run as the `postgres` system user when
the tests run as root, and are stopped by their own pg_ctl; the machine's PostgreSQL is only read
(pg_dump of the test database)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import psycopg
from django.db import connection

from config import dbroles as roles_setup
from core.dbroles import app_role_grant
from tests.faults import harness as h

DB = "sskdt_r12"
OWNER, APP = "sskdt_owner", "sskdt_app"


def _tool(cluster: h.PgCluster, name: str) -> str:
    return str(cluster.bindir / name)


def primary_from_test_database() -> h.PgCluster:
    """A new cluster holding a copy of the test database (schema and committed rows), owned by
    the owner role, with the application role granted what `migrate` grants it."""
    cluster = h.PgCluster().init()
    with open(cluster.datadir / "postgresql.conf", "a") as fh:
        fh.write("wal_level = replica\nmax_wal_senders = 4\nlog_min_messages = warning\n")
    cluster.start()
    s = connection.settings_dict
    subprocess.run(
        [_tool(cluster, "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", DB],
        check=True,
        capture_output=True,
    )
    dump = subprocess.run(
        [
            _tool(cluster, "pg_dump"),
            "-h",
            s["HOST"] or "127.0.0.1",
            "-p",
            str(s["PORT"] or 5432),
            "-U",
            s["USER"],
            "--no-owner",
            "--no-privileges",
            s["NAME"],
        ],
        capture_output=True,
        check=True,
        timeout=300,
    )
    subprocess.run(
        [_tool(cluster, "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.url(DB)],
        input=dump.stdout,
        capture_output=True,
        check=True,
        timeout=300,
    )
    roles_setup.setup(cluster.url(DB), owner=OWNER, app=APP)
    with psycopg.connect(roles_setup.role_url(cluster.url(DB), OWNER), autocommit=True) as conn:
        app_role_grant(conn.cursor(), APP)
    return cluster


def replica_of(primary: h.PgCluster) -> h.PgCluster:
    """`pg_basebackup -R` of the primary into a new directory (standby.signal and primary_conninfo
    written by -R), on a port of its own, started as a hot standby."""
    base = Path(tempfile.mkdtemp(prefix="sskdt-faults-replica-"))
    user = h._pg_user()
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    replica = h.PgCluster(datadir=base / "data", bindir=primary.bindir)
    replica._run(
        "pg_basebackup",
        "-h",
        "127.0.0.1",
        "-p",
        str(primary.port),
        "-U",
        "postgres",
        "-D",
        str(replica.datadir),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
        timeout=300,
    )
    with open(replica.datadir / "postgresql.conf", "a") as fh:
        fh.write(f"\nport = {replica.port}\nunix_socket_directories = '{base}'\nhot_standby = on\n")
    replica.start()
    return replica


def url(cluster: h.PgCluster, role: str) -> str:
    return roles_setup.role_url(cluster.url(DB), role)
