#!/usr/bin/env python
"""Benchmark: peak memory of a real Celery worker importing a large card file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_books CELERY_BROKER_URL=redis://127.0.0.1:6379/5 \\
        python bench/cards_worker_rss.py --rows 1000000 [--seed 13] [--format csv|xlsx]

Starts `celery worker --pool solo` (the task runs in the worker process itself), queues the
import through the real upload service, samples the worker's VmRSS every 0.2 s and reports
its peak (VmHWM) when the batch ends. Baseline in the same run: the worker's RSS when idle.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    p.add_argument("--workdir", default=str(ROOT / "var" / "bench"))
    args = p.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"rss-{args.rows}-{args.seed}.{args.format}"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "gen_cards.py"),
                "--rows",
                str(args.rows),
                "--seed",
                str(args.seed),
                "--bad-share",
                "0.01",
                "--format",
                args.format,
                "--out",
                str(path),
            ],
            check=True,
        )
    env = os.environ | {
        "SSKDT_MEDIA_ROOT": str(work / "media"),
        "SSKDT_VAR_DIR": str(work / "var"),
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
    }
    (work / "var").mkdir(exist_ok=True)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
            "--hostname",
            "rss@%h",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(6)
        idle = status_kb(worker.pid, "VmRSS")
        import django

        django.setup()
        from django.conf import settings

        settings.MEDIA_ROOT = str(work / "media")
        from healthbook.cards.services import card_batch_create

        t = time.perf_counter()
        with open(path, "rb") as fh:
            batch = card_batch_create(acting_user=None, fh=fh, name=path.name).batch
        peak_sampled = 0
        while True:
            peak_sampled = max(peak_sampled, status_kb(worker.pid, "VmRSS"))
            batch.refresh_from_db()
            if batch.is_finished:
                break
            time.sleep(0.2)
        hwm = status_kb(worker.pid, "VmHWM")
        secs = time.perf_counter() - t
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    print(
        f"{args.format} file {path.name}: {path.stat().st_size / 1e6:.0f} MB, {batch.rows_read} rows, "
        f"status {batch.status}, {secs:.0f} s, runs {batch.runs}"
    )
    print(
        f"worker RSS idle {idle / 1024:.0f} MB; peak (VmHWM) {hwm / 1024:.0f} MB; peak sampled {peak_sampled / 1024:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
