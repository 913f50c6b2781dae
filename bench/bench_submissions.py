"""Intake stage-2 benchmarks (run by hand; figures in bench/RESULTS.md "Intake: accept path and worker").

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/<bench db>   # migrated; its intake tables are emptied
    python bench/bench_submissions.py accept [--seconds 15] [--clients 16] [--workers 2] [--threads 1]
    python bench/bench_submissions.py worker [--citizens 100] [--visits-per-citizen 4] [--labs 20] [--drugs 5]
                                          [--citizens-per-envelope 1]

accept: gunicorn (sync workers) serving bench/bench_urls.py; the same client threads POST the same
signed envelope first to a bare DRF view answering 202 without storing (baseline), then to
POST /api/v1/submissions/ (API key check, size limit, bytes + row stored in one transaction,
202; the broker is a throwaway filesystem queue so no worker competes). Prints req/s and the ratio.

worker: stores generated submissions, then times `submission_process` over them in this one
process (claim, signature, parse, code-list validation, citizen matching, merge with bulk
inserts, problems, connection health). Prints visits/s.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FACILITY = "01001"


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")
    import django

    django.setup()


def prepare(tmp: Path, *, citizens=1, visits=3, labs=20, drugs=5, per_envelope=1):
    """Empty the intake tables, make facility 01001 with a key and certificate, generate envelopes."""
    from django.core.management import call_command
    from django.db import connection

    from facilities.certificates import certificate_add, trust_anchor_add
    from facilities.credentials import api_key_create
    from facilities.models import Facility, FacilityStatus
    from geo.models import Province
    from healthbook.intake.demo.pki import make_pki
    from healthbook.intake.demo.submissions import generate

    call_command("load_codelists", verbosity=0)
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE healthbook_submission, healthbook_submission_payload, healthbook_submission_problem,"
            " healthbook_encounter, healthbook_encounter_history CASCADE"
        )
    facility, _ = Facility.objects.get_or_create(
        code=FACILITY, defaults={"name": "Bench", "province": Province.objects.get(code="01")}
    )
    Facility.objects.filter(pk=facility.pk).update(status=FacilityStatus.APPROVED)
    facility.refresh_from_db()
    facility.certificates.all().delete()
    pki = make_pki(tmp / "pki", facility=FACILITY)
    trust_anchor_add(pem=pki["ca"].cert_path.read_bytes())
    certificate_add(facility=facility, pem=pki["valid"].cert_path.read_bytes(), acting_user=None)
    key = api_key_create(facility=facility, name=f"bench {time.time()}", acting_user=None).key
    leaf = pki["valid"]
    manifest = generate(
        facility=FACILITY,
        key_pem=leaf.key_path.read_bytes(),
        cert_pem=leaf.cert_path.read_bytes(),
        citizens=citizens,
        visits_per_citizen=visits,
        labs=labs,
        drugs=drugs,
        out=tmp / "subs",
        fmt="xml",
        seed=5,
        per_envelope=per_envelope,
    )
    bodies = [(tmp / "subs" / m["file"]).read_bytes() for m in manifest["xml"]]
    return facility, key, bodies, sum(m["visits"] for m in manifest["xml"])


def load(port: int, path: str, body: bytes, headers: dict, seconds: float, clients: int) -> float:
    counts, codes = [0] * clients, {}
    stop = time.monotonic() + seconds

    def run(i):
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            codes[resp.status] = codes.get(resp.status, 0) + 1
            counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert set(codes) == {202}, codes
    return sum(counts) / elapsed


def _wait_ready(port: int, timeout: float = 60) -> None:
    """Wait until every gunicorn worker has loaded Django (a loaded machine may take > 3 s)."""
    stop = time.monotonic() + timeout
    while time.monotonic() < stop:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/bare/")
            conn.getresponse().read()
            conn.close()
            break
        except OSError:
            time.sleep(0.5)
    time.sleep(2)


def accept(a) -> None:
    setup_django()
    with tempfile.TemporaryDirectory() as tmp:
        _facility, key, bodies, _visits = prepare(Path(tmp))
        body = bodies[0]
        port = 8765
        env = os.environ | {"DJANGO_SETTINGS_MODULE": "bench.bench_settings", "SSKDT_VAR_DIR": tmp}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bench.bench_wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(a.workers),
                *(["--threads", str(a.threads)] if a.threads > 1 else []),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=env,
        )
        try:
            _wait_ready(port)
            headers = {"Content-Type": "application/xml", "Authorization": f"Api-Key {key}", "Host": "localhost"}
            load(port, "/bench/bare/", body, headers, 3, a.clients)  # warm-up
            bare = load(port, "/bench/bare/", body, headers, a.seconds, a.clients)
            full = load(port, "/api/v1/submissions/", body, headers, a.seconds, a.clients)
        finally:
            server.terminate()
            server.wait(10)
    print(f"body {len(body)} bytes, {a.clients} client threads, gunicorn -w {a.workers} --threads {a.threads}")
    print(
        f"bare DRF 202: {bare:.0f} req/s; POST /api/v1/submissions/ (stored, task queued): {full:.0f} req/s; "
        f"ratio {full / bare:.2f}"
    )


def worker(a) -> None:
    setup_django()
    from healthbook.intake.processing import submission_process
    from healthbook.intake.services import submission_receive
    from healthbook.models import LabObservation, Submission

    with tempfile.TemporaryDirectory() as tmp:
        facility, _key, bodies, visits = prepare(
            Path(tmp),
            citizens=a.citizens,
            visits=a.visits_per_citizen,
            labs=a.labs,
            drugs=a.drugs,
            per_envelope=a.citizens_per_envelope,
        )
        from django.test.utils import override_settings

        with override_settings(CELERY_BROKER_URL="memory://", INTAKE_PROCESS_INLINE=False):
            import healthbook.intake.tasks as tasks

            tasks.submission_enqueue = lambda _pk: None  # the bench drives processing itself
            ids = [
                submission_receive(
                    facility=facility, api_key=None, body=b, content_type="application/xml"
                ).submission.pk
                for b in bodies
            ]
        from cryptography import x509

        from healthbook.intake.pipeline import read_xml_submission

        certs = [x509.load_pem_x509_certificate(c.pem.encode()) for c in facility.certificates.all()]
        start = time.monotonic()
        for body in bodies:  # baseline, same run: stage 1 only (verify + parse + map, no database)
            read_xml_submission(body, facility_code=FACILITY, certificates=certs)
        parse_only = visits / (time.monotonic() - start)
        start = time.monotonic()
        for pk in ids:
            submission_process(submission_id=pk)
        elapsed = time.monotonic() - start
    statuses = dict.fromkeys(Submission.objects.values_list("status", flat=True))
    print(f"{len(ids)} submissions, {visits} visits ({a.labs} labs, {a.drugs} drugs each), statuses {list(statuses)}")
    print(
        f"labs stored: {LabObservation.objects.count()}; stage-1 read only {parse_only:.0f} visits/s; "
        f"full processing {visits / elapsed:.0f} visits/s in one process (ratio {visits / elapsed / parse_only:.2f})"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("accept")
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help=">1: gthread workers (overlap the commit flush waits)")
    w = sub.add_parser("worker")
    w.add_argument("--citizens", type=int, default=100)
    w.add_argument("--visits-per-citizen", type=int, default=4)
    w.add_argument("--labs", type=int, default=20)
    w.add_argument("--drugs", type=int, default=5)
    w.add_argument(
        "--citizens-per-envelope",
        type=int,
        default=1,
        help="1: one envelope per citizen; e.g. 25: a facility's day file of 100 visits",
    )
    a = ap.parse_args(argv)
    accept(a) if a.cmd == "accept" else worker(a)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
