"""Benchmark: FHIR CodeSystem/$validate-code under load, and bulk codes_validate.

Starts gunicorn (4 sync workers) on 127.0.0.1:8765 against the database in DATABASE_URL
(after `load_codelists`), then 32 client threads with keep-alive connections hit:
  1. /fhir/metadata           — baseline: a fixed response, no database;
  2. /fhir/CodeSystem/$validate-code?url=<icd10>&code=<random ICD-10 code or junk>&date=<random>.
Run by hand:
    DATABASE_URL=postgres://... /work/main/.venv/bin/python bench/codelists_validate_load.py
"""

import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from codelists.models import CodeSystem, Concept  # noqa: E402
from codelists.validation import codes_validate  # noqa: E402

PORT = 8765
THREADS = 32
SECONDS = 10


def hammer(paths: list[str]) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine = []
        rnd = random.Random()
        while time.monotonic() < stop:
            t = time.perf_counter()
            conn.request("GET", rnd.choice(paths))
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t)
            if r.status != 200:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies, errors[0]


def report(name, rps, lat, errors):
    lat = sorted(lat)
    p50, p95 = statistics.median(lat) * 1000, lat[int(len(lat) * 0.95)] * 1000
    print(f"{name:28s} {rps:8.0f} req/s   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   non-200 {errors}")


def main():
    icd = CodeSystem.objects.get(key="icd10")
    codes = list(Concept.objects.filter(version__system=icd).values_list("code", flat=True).distinct()[:20000])
    rnd = random.Random(7)
    sample = [rnd.choice(codes) for _ in range(2000)] + [f"ZZ{n:03d}" for n in range(500)]
    dates = ["2021-03-01", "2023-07-15", "2025-10-01"]
    paths = [
        "/fhir/CodeSystem/$validate-code?"
        + urllib.parse.urlencode({"url": icd.canonical_url, "code": c, "date": rnd.choice(dates)})
        for c in sample
    ]

    t = time.perf_counter()
    bulk = codes_validate("icd10", [rnd.choice(codes) for _ in range(100_000)], __import__("datetime").date(2025, 1, 1))
    print(f"codes_validate, 100,000 codes in process: {time.perf_counter() - t:.2f} s ({len(bulk)} distinct)")

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            "4",
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/fhir/metadata")
                break
            except OSError:
                time.sleep(0.1)
        hammer(["/fhir/metadata"])  # warm-up
        base = hammer(["/fhir/metadata"])
        report("baseline /fhir/metadata", *base)
        val = hammer(paths)
        report("$validate-code", *val)
        print(f"$validate-code throughput = {val[0] / base[0]:.2f} x baseline")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
