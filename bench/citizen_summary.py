"""The citizen summary (GET /api/citizen/v1/summary/) under load, against a floor view, in the
same run (issue 19, point 6: < 100 ms p95 at 1 M citizens / 5 M visits).

gunicorn (2 sync workers, bench/bench_wsgi.py) on loopback; `--clients` Python threads, each
sending its requests one after the other for `--seconds`; latency measured per request from
the client (connect to last byte), p50/p95/p99 over all of them. Every summary request carries
a fresh platform token (signed before the run, one per request: a token is accepted once), so
each one checks the signature, records the token id, loads the book, appends one hash-chained
access-log entry and reads the header facts and the last visits, as in production.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_h19api_bench
    DJANGO_SETTINGS_MODULE=config.test_settings python manage.py migrate
    DJANGO_SETTINGS_MODULE=config.test_settings python manage.py load_codelists
    DJANGO_SETTINGS_MODULE=config.test_settings python bench/doctor_gen.py   # 1 M citizens, 5 M visits
    python bench/citizen_summary.py [--seconds 20] [--clients 4] [--citizens 2000]

The generator's personal IDs (province digits 009) are not valid ones: the bench gives the
citizens it reads valid generated IDs (0010…) first, and registers its own platform key.
"""

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from citizenapi.services import platform_key_register  # noqa: E402
from citizenapi.tokens import token_sign  # noqa: E402

PORT = 8766
ISSUER = "https://vneid.bench"


def citizens(count: int) -> tuple[list[str], str]:
    """`count` random citizens with a book (valid personal IDs given), and the generator's
    500-visit patient."""
    with connection.cursor() as cur:
        cur.execute("SELECT max(id) FROM healthbook_citizen")
        top = cur.fetchone()[0]
        ids = random.Random(19).sample(range(1, top + 1), count)
        # the generator's patient: the first generated book (as bench/doctor_book_load.py reads it)
        cur.execute("SELECT citizen_id FROM healthbook_book ORDER BY id LIMIT 1")
        patient = cur.fetchone()[0]
        ids = [i for i in ids if i != patient] + [patient]
        cur.execute(
            "UPDATE healthbook_citizen SET personal_id = '0010' || lpad(id::text, 8, '0')"
            " WHERE id = ANY(%s) AND personal_id NOT LIKE '0010%%'",
            [ids],
        )
        cur.execute(
            "SELECT c.personal_id FROM healthbook_citizen c JOIN healthbook_book b ON b.citizen_id = c.id"
            " WHERE c.id = ANY(%s) ORDER BY c.id",
            [ids[:-1]],
        )
        pids = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT personal_id FROM healthbook_citizen WHERE id = %s", [patient])
        return pids, cur.fetchone()[0]


def platform():
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    row = platform_key_register(issuer=ISSUER, name="VNeID (bench)", pem=pem, kid=f"bench-{uuid.uuid4().hex[:8]}")
    return key, row.kid


def tokens(key, kid: str, pids: list[str], n: int) -> list[str]:
    now = int(time.time())
    aud = settings.SSKDT_CITIZEN_TOKEN_AUDIENCE
    claims = ({"iss": ISSUER, "aud": aud, "sub": pids[i % len(pids)], "iat": now, "exp": now + 300} for i in range(n))
    return [token_sign({**c, "jti": uuid.uuid4().hex}, key, kid=kid) for c in claims]


def load(path: str, headers_list, seconds: float, clients: int) -> dict:
    """`clients` threads, each sending requests one after the other until `seconds` pass."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    feed = iter(headers_list)
    stop = time.monotonic() + seconds

    def worker():
        mine = []
        while time.monotonic() < stop:
            with lock:
                headers = next(feed, None)
            if headers is None:
                break
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            mine.append((time.perf_counter() - t0) * 1000)
            if response.status != 200:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    q = statistics.quantiles(latencies, n=100)
    return {
        "n": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "errors": errors[0],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--citizens", type=int, default=2000)
    args = parser.parse_args()
    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM healthbook_citizen), (SELECT count(*) FROM healthbook_encounter)")
        n_citizens, n_visits = cur.fetchone()
        cur.execute("SELECT id FROM facilities_facility WHERE code = '01001'")
        facility_pk = cur.fetchone()[0]
    pids, patient = citizens(args.citizens)
    key, kid = platform()
    budget = int(args.seconds * 400) + 2000  # more tokens than any run can use
    runs = {
        "floor (1 PK query + small template)": (f"/bench/floor/{facility_pk}/", [{}] * budget),
        "citizen summary, random citizens": (
            "/api/citizen/v1/summary/",
            [{"Authorization": f"Citizen-Token {t}"} for t in tokens(key, kid, pids, budget)],
        ),
        "citizen summary, the 500-visit patient": (
            "/api/citizen/v1/summary/",
            [{"Authorization": f"Citizen-Token {t}"} for t in tokens(key, kid, [patient], budget)],
        ),
    }
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bench_settings"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.bench_wsgi:application",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
                c.request("GET", f"/bench/floor/{facility_pk}/")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        results = {}
        for name, (path, headers) in runs.items():
            load(path, headers[:200], 2, args.clients)  # warm (code names, connections)
            results[name] = load(path, headers[200:], args.seconds, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=20)
    floor = results["floor (1 PK query + small template)"]
    print(f"{n_citizens:,} citizens, {n_visits:,} visits; {args.clients} clients, {args.seconds:.0f} s per URL")
    print("| request | n | req/s | p50 | p95 | p99 | errors | p95 vs floor |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {name} | {r['n']} | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['p99']:.1f} ms"
            f" | {r['errors']} | {r['p95'] / floor['p95']:.2f}× |"
        )


if __name__ == "__main__":
    main()
