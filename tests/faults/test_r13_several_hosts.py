"""R13: several hosts (issue 21, point 4). The web process and two Celery workers each in a network
namespace of their own, reaching a throwaway PostgreSQL and Redis that listen on the "db" host's
veth address (tests/faults/netns.py draws the layout), run a card import and an intake load at once.

The card file is uploaded over HTTP to the web host by a signed-in ministry administrator; the
workers merge it (the import task hands back every second, so its runs land on either worker);
facility software POSTs signed XML 130 envelopes to the web host at the same time. Each host has
its own working folder (cwd, HOME, TMPDIR, SSKDT_VAR_DIR); the only folder they share is
SSKDT_MEDIA_ROOT, the configured shared storage through which the card file travels (docs/scale.md,
"Several hosts").

Figures: both loads complete with exact counts (card rows accepted/rejected and the rejected lines
as generated, one encounter per envelope); the tasks each worker ran (`celery inspect stats`); the
addresses PostgreSQL and Redis saw their clients connect from; each host's interfaces (lo and its
veth only), that 127.0.0.1:5432 and :6379 are unreachable from inside every host, and the settings
each host loaded naming only the db host's address. Skipped only where the machine cannot make
network namespaces or lacks PostgreSQL server binaries or redis-server.
"""

import json
import os
import secrets
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from config import dbroles as roles_setup
from core.roles import Role
from tests import factories as f
from tests.conftest import TRANSACTIONAL, enrol_totp
from tests.faults import harness as h
from tests.faults import netns

pytestmark = [TRANSACTIONAL, pytest.mark.skipif(bool(netns.missing()), reason=netns.missing() or "-")]

CLIENTS = 4
OWNER, APP = "sskdt_owner", "sskdt_app"
SETTINGS_PROBE = """
import json, os, tempfile, django
django.setup()
from django.conf import settings as s
d = s.DATABASES["default"]
print(json.dumps({"db": [d["HOST"], d["PORT"], d["USER"]], "broker": s.CELERY_BROKER_URL,
  "cache": s.CACHES["default"]["BACKEND"], "media": str(s.MEDIA_ROOT), "var": str(s.VAR_DIR),
  "tmp": tempfile.gettempdir(), "home": os.environ["HOME"], "cwd": os.getcwd(),
  "owner": bool(getattr(s, "DATABASE_OWNER", None))}))
"""


def _envelopes(tmp_path: Path, pki, count: int) -> list[bytes]:
    from healthbook.intake.demo.submissions import generate

    leaf = pki["valid"]
    out = tmp_path / "envelopes"
    generate(
        facility="01001",
        key_pem=leaf.key_path.read_bytes(),
        cert_pem=leaf.cert_path.read_bytes(),
        citizens=count,
        visits_per_citizen=1,
        labs=5,
        drugs=2,
        out=out,
        fmt="xml",
        seed=13,
    )
    return [p.read_bytes() for p in sorted((out / "xml").glob("*.xml"))]


def _post_envelopes(base: str, key: str, bodies: list[bytes], answers: list, errors: list) -> None:
    import requests

    with requests.Session() as s:
        for body in bodies:
            try:
                r = s.post(
                    f"{base}/api/v1/submissions/",
                    data=body,
                    headers={"Content-Type": "application/xml", "Authorization": f"Api-Key {key}"},
                    timeout=60,
                )
                answers.append(r.status_code)
            except Exception as exc:  # noqa: BLE001 — reported by the test
                errors.append(repr(exc))


def _upload_cards(base: str, session_key: str, data: Path, out: dict) -> None:
    import requests

    token = secrets.token_hex(16)  # a CSRF token of our own: cookie and header must match
    with data.open("rb") as fh:
        r = requests.post(
            f"{base}/api/v1/card-batches/",
            files={"file": (data.name, fh, "text/csv")},
            cookies={"sessionid": session_key, "csrftoken": token},
            headers={"X-CSRFToken": token, "Accept-Language": "vi"},
            timeout=300,
        )
    out["status"], out["body"] = r.status_code, r.text[:2000]


def _outcome(url: str, expected: dict) -> dict:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, status, rows_read, rows_accepted, rows_rejected, runs FROM healthbook_card_batch")
        batches = cur.fetchall()
        out = {"batches": len(batches)}
        if len(batches) == 1:
            batch_id, status, read, accepted, rejected, runs = batches[0]
            cur.execute("SELECT count(*), count(DISTINCT citizen_id) FROM healthbook_card")
            cards, card_citizens = cur.fetchone()
            cur.execute(
                'SELECT line, "column", code FROM healthbook_card_batch_problem WHERE batch_id = %s', [batch_id]
            )
            found = sorted(cur.fetchall())
            wanted = sorted((r["line"], e["column"], e["code"]) for r in expected["rejected"] for e in r["errors"])
            want = expected["counts"]
            out |= {"status": status, "rows_read": read, "accepted": accepted, "rejected": rejected, "runs": runs}
            out["cards_exact"] = (status, read, accepted, rejected, cards, card_citizens, found) == (
                "done",
                want["rows"],
                want["accepted"],
                want["rejected"],
                want["accepted"],
                want["accepted"],
                wanted,
            )
        cur.execute("SELECT status, count(*) FROM healthbook_submission GROUP BY status")
        out["submissions"] = dict(cur.fetchall())
        cur.execute("SELECT count(*) FROM healthbook_encounter")
        out["encounters"] = cur.fetchone()[0]
    return out


def _final(url: str) -> tuple[bool, int]:
    with psycopg.connect(url, connect_timeout=3) as conn:
        done = conn.execute("SELECT coalesce(bool_and(status IN ('done', 'failed')), false) FROM healthbook_card_batch")
        cards_over = done.fetchone()[0]
        subs = conn.execute(
            "SELECT count(*) FROM healthbook_submission WHERE status IN "
            "('accepted', 'accepted_with_warnings', 'rejected', 'held')"
        ).fetchone()[0]
    return cards_over, subs


def _stats(hosts: netns.Hosts, env: dict) -> dict:
    done = hosts.run(
        "web",
        [sys.executable, "-m", "celery", "-A", "config", "inspect", "stats", "--json", "--timeout", "10"],
        env=env,
        cwd=hosts.folder("web"),
        check=False,
        timeout=90,
    )
    text = done.stdout.strip()
    start = text.find("{")
    data = json.loads(text[start:]) if start >= 0 else {}
    return {name: stats.get("total", {}) for name, stats in data.items()}


def test_r13_web_and_two_workers_on_separate_hosts(proof, tmp_path, pki, sender, card_codelists, intake_codelists):
    _several_hosts(proof, tmp_path, pki, sender, rows=20_000, envelopes=150)


@pytest.mark.proof_long
def test_r13_several_hosts_long(proof, tmp_path, pki, sender, card_codelists, intake_codelists):
    rows = int(os.environ.get("PROOF_R13_ROWS", "200000"))
    _several_hosts(
        proof, tmp_path, pki, sender, rows=rows, envelopes=int(os.environ.get("PROOF_R13_ENVELOPES", "1500"))
    )


def _several_hosts(proof, tmp_path, pki, sender, *, rows: int, envelopes: int):
    row = proof.row(
        "R13",
        f"web (gunicorn) and two Celery workers in 3 network namespaces, PostgreSQL 15 and Redis in a 4th on "
        f"veth addresses; a {rows:,}-row card file uploaded over HTTP while {CLIENTS} clients POST "
        f"{envelopes} signed XML 130 envelopes",
    )
    admin = f.ministry(Role.MINISTRY_ADMIN, username="r13_ministry")
    enrol_totp(admin)
    from django.test import Client

    browser = Client()
    browser.force_login(admin)  # the session row travels with the copy of the database
    session_key = browser.cookies["sessionid"].value
    data, expected = h.gen_cards(tmp_path, rows, seed=71)
    bodies = _envelopes(tmp_path, pki, envelopes)
    started = time.monotonic()
    hosts = netns.Hosts(base=netns.new_base())
    timings: dict[str, float] = {}
    try:
        hosts.up()
        cluster = hosts.start_postgres()
        admin_url = netns.clone_test_database(cluster, "sskdt", connection.settings_dict)
        roles_setup.setup(admin_url, owner=OWNER, app=APP)
        broker = hosts.start_redis()
        common = {
            "DATABASE_URL": roles_setup.role_url(admin_url, APP),
            "CELERY_BROKER_URL": broker,
            "CARD_IMPORT_CHUNK_ROWS": str(max(500, rows // 100)),
            "CARD_IMPORT_TASK_BUDGET_SECONDS": "1",
            "DB_CONN_MAX_AGE": "60",
        }
        env = {host: netns.host_env(hosts, host, **common) for host in ("web", "worker1", "worker2")}
        # The deploy step, from the web host: `migrate` as the owner role, which grants the
        # application role its privileges; the hosts then run without the owner's URL.
        migrated = hosts.run(
            "web",
            [sys.executable, str(netns.ROOT / "manage.py"), "migrate", "--noinput"],
            env=env["web"] | {"DATABASE_OWNER_URL": roles_setup.role_url(admin_url, OWNER)},
            cwd=hosts.folder("web"),
            timeout=300,
        ).stdout
        timings["setup"] = time.monotonic() - started

        # What each host is: its interfaces, what it can reach, the settings it loads.
        isolation = {}
        for host in ("web", "worker1", "worker2"):
            isolation[host] = {
                "interfaces": hosts.interfaces(host),
                "machine_pg": hosts.reaches(host, "127.0.0.1", 5432),
                "machine_redis": hosts.reaches(host, "127.0.0.1", 6379),
                "db_pg": hosts.reaches(host, hosts.addr("db"), 5432),
                "settings": json.loads(
                    hosts.run(host, [sys.executable, "-c", SETTINGS_PROBE], env=env[host], cwd=hosts.folder(host))
                    .stdout.strip()
                    .splitlines()[-1]
                ),
            }

        web = hosts.spawn(
            "web",
            "web",
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"{hosts.addr('web')}:8000"]
            + ["--workers", "2", "--threads", "4", "--timeout", "120", "--graceful-timeout", "2"],
            env=env["web"],
            cwd=hosts.folder("web"),
        )
        for name in ("worker1", "worker2"):
            cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--concurrency", "1"]
            cmd += ["--hostname", f"{name}@sskdt-{name}", "--without-mingle", "--without-gossip"]
            cmd += ["--loglevel", "INFO"]
            if name == "worker1":  # one beat for the whole layout (the sweepers, the checkpoints)
                cmd += ["-B", "--schedule", str(hosts.folder(name) / "var" / "celerybeat-schedule")]
            hosts.spawn(name, name, cmd, env=env[name], cwd=hosts.folder(name))
        netns.wait_http(hosts.addr("web"), 8000, web)
        time.sleep(3)  # the workers connect to the broker

        base = f"http://{hosts.addr('web')}:8000"
        upload: dict = {}
        answers: list[int] = []
        errors: list[str] = []
        load_started = time.monotonic()
        threads = [threading.Thread(target=_upload_cards, args=(base, session_key, data, upload))]
        threads += [
            threading.Thread(target=_post_envelopes, args=(base, sender.key, bodies[n::CLIENTS], answers, errors))
            for n in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        clients_seen: set[str] = set()
        redis_seen: set[str] = set()
        su_url = admin_url  # the superuser, for the driver's own reads
        deadline = time.monotonic() + 600 + rows / 20
        while time.monotonic() < deadline:
            with psycopg.connect(su_url, connect_timeout=3) as conn:
                clients_seen |= {
                    str(a)
                    for (a,) in conn.execute(
                        "SELECT DISTINCT client_addr FROM pg_stat_activity WHERE usename = %s AND client_addr "
                        "IS NOT NULL",
                        [APP],
                    )
                }
            redis_seen |= _redis_clients(hosts)
            cards_over, subs = _final(su_url)
            if cards_over and subs >= envelopes and all(not t.is_alive() for t in threads):
                break
            time.sleep(0.5)
        timings["load"] = time.monotonic() - load_started
        for t in threads:
            t.join(30)
        stats = _stats(hosts, env["web"])
        out = _outcome(su_url, expected)
        files = {
            host: sorted(str(p.relative_to(hosts.folder(host))) for p in h.files_under(hosts.folder(host)))
            for host in ("web", "worker1", "worker2")
        }
        shared = sorted(str(p.relative_to(hosts.shared_media)) for p in h.files_under(hosts.shared_media))
    finally:
        logs = {name: hosts.log(name)[-3000:] for name in ("web", "worker1", "worker2")}
        hosts.close()
    timings["total"] = time.monotonic() - started
    timings["rows_per_s"] = out.get("rows_read", 0) / timings["load"]
    assert not any(Path("/run/netns", hosts.ns(n)).exists() for n in netns.ADDRESSES)  # all removed

    if os.environ.get("PROOF_R13_OUT"):  # for docs/scale.md
        Path(os.environ["PROOF_R13_OUT"]).write_text(
            json.dumps(
                {"timings": timings, "isolation": isolation, "stats": stats, "outcome": out, "files": files}
                | {"shared": shared, "clients": sorted(clients_seen), "redis": sorted(redis_seen)},
                indent=1,
                default=str,
            )
        )

    per_worker = {name.split("@")[0]: dict(total) for name, total in stats.items()}
    ran = {w: sum(t.values()) for w, t in per_worker.items()}
    intake_task = "healthbook.intake.tasks.submission_process_task"
    card_task = "healthbook.cards.tasks.card_batch_import_task"
    statuses = Counter(answers)
    db, web_addr = hosts.addr("db"), hosts.addr("web")
    row.set(
        times=envelopes + 1,
        figure=(
            f"card import: {out.get('status')}, {out.get('accepted')} accepted + {out.get('rejected')} rejected of "
            f"{rows} (exact {out.get('cards_exact')}), {out.get('runs')} task runs; intake: "
            f"{dict(statuses)} answers, submissions {out['submissions']}, {out['encounters']} encounters for "
            f"{envelopes} envelopes; tasks per worker "
            + ", ".join(
                f"{w}: {ran[w]} ({t.get(intake_task, 0)} intake, {t.get(card_task, 0)} card import)"
                for w, t in sorted(per_worker.items())
            )
            + f"; PostgreSQL clients from {', '.join(sorted(clients_seen))}, Redis clients from "
            f"{', '.join(sorted(redis_seen))}; each host: lo + eth0 only, 127.0.0.1:5432/6379 unreachable; "
            f"load {timings['load']:.0f} s, setup {timings['setup']:.0f} s, in all {timings['total']:.0f} s"
        ),
    )

    context = f"logs: {json.dumps(logs)[-6000:]}"
    for host, seen in isolation.items():
        assert set(seen["interfaces"]) == {"lo", "eth0"}, (host, seen["interfaces"])
        assert seen["interfaces"]["eth0"] == [f"{hosts.addr(host)}/24"], seen
        assert not seen["machine_pg"] and not seen["machine_redis"] and seen["db_pg"], (host, seen)
        s = seen["settings"]
        assert s["db"] == [db, 5432, APP] and s["broker"].startswith(f"redis://{db}:6379/"), s
        assert not s["owner"]  # no owner-role URL (the driver's, on 127.0.0.1) leaked into a host
        folder = str(hosts.folder(host))
        assert s["cwd"] == folder and s["home"].startswith(folder) and s["tmp"].startswith(folder), s
        assert s["var"].startswith(folder) and s["media"] == str(hosts.shared_media), s
    assert f"application role {APP!r} granted" in migrated, migrated
    assert upload.get("status") == 202, (upload, context)
    assert statuses == Counter({202: envelopes}) and not errors, (statuses, errors[:3], context)
    assert out["batches"] == 1 and out["cards_exact"], (out, context)
    assert (
        out["encounters"] == envelopes
        and out["submissions"].get("accepted", 0) + out["submissions"].get("accepted_with_warnings", 0) == envelopes
    ), (out, context)
    assert set(per_worker) == {"worker1", "worker2"}, stats
    assert all(t.get(intake_task, 0) > 0 for t in per_worker.values()), stats  # the intake ran on both
    assert sum(t.get(card_task, 0) for t in per_worker.values()) == out["runs"], (stats, out)
    assert {hosts.addr(w) for w in ("web", "worker1", "worker2")} <= clients_seen, clients_seen
    assert clients_seen <= {hosts.addr(w) for w in ("web", "worker1", "worker2")}, clients_seen
    assert {web_addr, hosts.addr("worker1"), hosts.addr("worker2")} <= redis_seen, redis_seen
    # Nothing a host wrote is read by another: the web host's folder holds no card file (it went to
    # the shared storage), and the only folder the hosts share holds just the card batch files.
    assert not any(p.endswith(".csv") for p in files["web"]), files
    assert shared and all(p.startswith("card-batches/") for p in shared), shared


def _redis_clients(hosts: netns.Hosts) -> set[str]:
    done = hosts.run(
        "db", ["redis-cli", "-h", hosts.addr("db"), "-p", "6379", "CLIENT", "LIST"], check=False, timeout=10
    )
    seen = set()
    for line in done.stdout.splitlines():
        for part in line.split():
            if part.startswith("addr="):
                seen.add(part.removeprefix("addr=").rsplit(":", 1)[0])
    seen.discard(hosts.addr("db"))  # redis-cli itself
    return seen
