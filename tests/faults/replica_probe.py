"""R12, the portal's side: run by tests/faults/test_r12_read_replicas.py in a process of its own whose
DATABASE_URL is the throwaway primary and DATABASE_REPLICA_URLS its streaming replica, both as the
application role. It sends real requests through the whole middleware stack (Django's test
client) and counts, per request, the statements each server received; it pauses and resumes the
replica's WAL replay (as the superuser) to make rows that exist on one server only. Prints one
JSON object: what each step saw."""

from __future__ import annotations

import json
import os
import sys
import time

import django

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import DEFAULT_DB_ALIAS, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from accesslog.models import AccessLogEntry, EmergencyAccess  # noqa: E402
from accounts.models import User  # noqa: E402
from core import replicas  # noqa: E402

REPLICA = "replica_1"
LAG_CHECK = "pg_last_xact_replay_timestamp"
FRESH_CHECK = "SELECT content_version FROM healthbook_book"
ARGS = json.loads(os.environ["R12_INPUT"])
primary = psycopg.connect(os.environ["R12_PRIMARY_ADMIN"], autocommit=True)
replica = psycopg.connect(os.environ["R12_REPLICA_ADMIN"], autocommit=True)


def caught_up(timeout: float = 60) -> None:
    (lsn,) = primary.execute("SELECT pg_current_wal_lsn()").fetchone()
    deadline = time.monotonic() + timeout
    while not replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn]).fetchone()[0]:
        if time.monotonic() > deadline:
            raise SystemExit("the replica did not catch up")
        time.sleep(0.02)


def pause_fresh() -> None:
    """Replica caught up with a commit made just now, then replay paused: what the primary
    commits next is on the primary only, while the replica's lag starts from about zero."""
    replica.execute("SELECT pg_wal_replay_resume()")
    primary.execute("UPDATE provinces_province_day SET computed_at = now() WHERE id = %s", [ARGS["rollup"]])
    caught_up()
    replica.execute("SELECT pg_wal_replay_pause()")
    replicas.forget_lag()


def resume() -> None:
    replica.execute("SELECT pg_wal_replay_resume()")
    caught_up()
    replicas.forget_lag()


def on_primary(sql: str, params=()) -> None:
    primary.execute(sql, params)


def both(sql: str, params=()) -> dict:
    return {
        "primary": primary.execute(sql, params).fetchone()[0],
        "replica": replica.execute(sql, params).fetchone()[0],
    }


def request(client: Client, method: str, path: str, **kw) -> dict:
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as p,
        CaptureQueriesContext(connections[REPLICA]) as r,
    ):
        response = getattr(client, method)(path, **kw)
    reads = [q["sql"] for q in r.captured_queries if LAG_CHECK not in q["sql"]]
    return {
        "status": response.status_code,
        "primary": len(p.captured_queries),
        "replica": len(reads),
        "replica_fresh_checks": sum(1 for q in reads if q.startswith(FRESH_CHECK)),
        "sticky": replicas.STICKY_COOKIE in response.cookies,
        "body": response.content.decode("utf-8", "replace"),
    }


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def server_port() -> dict:
    with connections[DEFAULT_DB_ALIAS].cursor() as cur:
        cur.execute("SELECT inet_server_port()")
        outside = cur.fetchone()[0]
    with replicas.lag_tolerant(), replicas.connection.cursor() as cur:
        cur.execute("SELECT inet_server_port()")
        inside = cur.fetchone()[0]
    return {"outside": outside, "inside": inside}


def main() -> dict:
    out: dict = {"threshold": settings.DATABASE_REPLICA_MAX_LAG_SECONDS}
    rollup = ARGS["rollup"]
    dashboard = reverse("dashboard-national")
    export = reverse("dashboard-national-export", kwargs={"table": "ranking", "fmt": "csv"})
    ministry = signed_in(ARGS["ministry"])
    caught_up()

    # 1. Caught up: the dashboard and its export are read from the replica; raw reads too.
    out["dashboard"] = request(ministry, "get", dashboard)
    out["export"] = request(ministry, "get", export)
    out["port"] = server_port() | {"primary": ARGS["primary_port"], "replica": ARGS["replica_port"]}
    out["codelists"] = request(ministry, "get", reverse("codelists:system-list"))
    searcher = signed_in(ARGS["doctor"])
    out["search"] = request(searcher, "post", reverse("citizen-search"), data={"q": "nguyen van benh"})
    out["search_found"] = ARGS["patient_name"] in out["search"]["body"]

    # 2. Replay paused, a change committed on the primary only: the export shows the replica's row.
    pause_fresh()
    on_primary("UPDATE provinces_province_day SET books_total = 222222 WHERE id = %s", [rollup])
    out["paused_lag"] = replicas.replica_lag(REPLICA)
    out["paused_export"] = request(ministry, "get", export)
    out["paused_values"] = both("SELECT books_total FROM provinces_province_day WHERE id = %s", [rollup])

    # 3. Reads after a write in the same request (and inside a transaction) stay on the primary; the
    # browser then stays on the primary for a few seconds (the sticky cookie).
    pause_fresh()
    with override_settings(ROOT_URLCONF="tests.faults.replica_urls"):
        out["write_then_read"] = request(ministry, "get", f"/r12/write-then-read/{rollup}/333333/")
        out["after_write_next_request"] = request(ministry, "get", export)
        ministry.cookies.pop(replicas.STICKY_COOKIE, None)
        out["read_write_read"] = request(ministry, "get", f"/r12/read-write-read/{rollup}/444444/")
        ministry.cookies.pop(replicas.STICKY_COOKIE, None)
        out["read_in_transaction"] = request(ministry, "get", f"/r12/read-in-transaction/{rollup}/555555/")
        ministry.cookies.pop(replicas.STICKY_COOKIE, None)

    # 4. The access decision and the access-log append are on the primary: an emergency access
    # granted while replay is paused exists on the primary only, and opens the book; the book's
    # content (unchanged) is read from the replica.
    pause_fresh()
    stranger = ARGS["stranger_book"]
    doctor = signed_in(ARGS["doctor"])
    out["emergency"] = request(
        doctor, "post", reverse("book-emergency", kwargs={"public_id": stranger}), data={"reason": "life_threat"}
    )
    out["grants"] = both("SELECT count(*) FROM accesslog_emergencyaccess")
    doctor = signed_in(ARGS["doctor"])  # a new browser: no sticky cookie from the POST
    log_before = AccessLogEntry.objects.count()
    out["stranger_book"] = request(doctor, "get", reverse("book-detail", kwargs={"public_id": stranger}))
    out["log_appended"] = AccessLogEntry.objects.count() - log_before
    out["log_rows"] = both("SELECT count(*) FROM accesslog_entry")

    # 5. A book whose content changed on the primary only: the replica fails the content-version
    # test and the page is read from the primary.
    book_url = reverse("book-detail", kwargs={"public_id": ARGS["patient_book"]})
    resume()
    out["patient_book_caught_up"] = request(doctor, "get", book_url)
    pause_fresh()
    on_primary(
        "UPDATE healthbook_book SET content_version = content_version + 1 WHERE public_id = %s", [ARGS["patient_book"]]
    )
    out["patient_book_newer_on_primary"] = request(doctor, "get", book_url)

    # 6. Lag beyond the threshold: reads go back to the primary.
    pause_fresh()
    on_primary("UPDATE provinces_province_day SET books_total = 666666 WHERE id = %s", [rollup])
    deadline = time.monotonic() + 60
    while True:
        replicas.forget_lag()
        lag = replicas.replica_lag(REPLICA)
        if lag is not None and lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"the lag never passed the threshold: {lag}")
        time.sleep(0.2)
    out["lagging"] = lag
    out["lagging_export"] = request(ministry, "get", export)
    out["lagging_values"] = both("SELECT books_total FROM provinces_province_day WHERE id = %s", [rollup])

    # 7. Replay resumed: the replica serves again, with the primary's value.
    resume()
    out["resumed_lag"] = replicas.replica_lag(REPLICA)
    out["resumed_export"] = request(ministry, "get", export)
    out["emergency_rows_on_replica"] = EmergencyAccess.objects.using(REPLICA).count()
    return out


if __name__ == "__main__":
    result = main()
    for value in result.values():
        if isinstance(value, dict) and "body" in value:
            value["body"] = value["body"][:4000]
    sys.stdout.write("\nR12-RESULT " + json.dumps(result, default=str) + "\n")
