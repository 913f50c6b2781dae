"""Doctor book pages under load, against a floor view, in the same run.

gunicorn (2 sync workers, bench/bench_wsgi.py) on loopback; `wrk` (Debian) with 32
connections for 20 s per URL; p95 from wrk's latency histogram (Lua `done` hook). The
doctor is signed in (TOTP enrolled, session made with the test client); every book request
decides access and appends one hash-chained access-log entry, as in production.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_doctor_bench
    python bench/doctor_gen.py            # once: 1 M citizens, 5 M visits, the 500-visit patient
    python bench/doctor_book_load.py [--seconds 20] [--cold]

The book's header facts and timeline rows are cached per process under the book's content
version (docs/doctor-book.md): repeated opens of the patient's book use them, as a doctor's
repeated opens do; `--cold` switches the cache off to measure every page rendered in full.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")

import django  # noqa: E402

django.setup()

PORT = 8765
SESSIONS = 64

LUA = """
local cookies = {__COOKIES__}
local n = 0
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  n = math.random(#cookies)
end
request = function()
  n = n % #cookies + 1
  if cookies[1] == "" then return wrk.format(nil) end
  return wrk.format(nil, nil, {["Cookie"] = "sessionid=" .. cookies[n]})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.1f %.1f %.1f\\n", summary.requests, summary.errors.status
    + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def session_cookies() -> tuple[list[str], str, str]:
    """SESSIONS signed-in sessions of one doctor (32 connections = 32 doctors at their desks: one
    shared session would serialise on its own row, which no real use does)."""
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from core.roles import Role
    from facilities.models import Facility
    from healthbook.models import HealthBook
    from tests.conftest import enrol_totp

    facility = Facility.objects.get(code="01001")
    user, _ = User.objects.get_or_create(
        username="bench.doctor",
        defaults={
            "role": Role.DOCTOR,
            "facility": facility,
            "province": facility.province,
            "full_name": "Bác sĩ Đo Tải",
            "email": "bench.doctor@test.invalid",
            "approved_at": timezone.now(),
        },
    )
    if user.approved_at is None:  # made before accounts needed approval: every page was a redirect
        user.approved_at = timezone.now()
        user.save(update_fields=["approved_at"])
    if not user.authenticator_set.exists():
        enrol_totp(user)
    cookies = []
    for _ in range(SESSIONS):
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    book = HealthBook.objects.order_by("id").first()
    return cookies, str(book.public_id), str(facility.pk)


def wrk(url: str, seconds: int, lua: str) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--timeout", "10s", "-s", lua, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n, errors, p50, p95, p99 = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out).groups()
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: .*", out)
    if non2xx or sockets:
        print(url, non2xx.group(0) if non2xx else "", sockets.group(0) if sockets else "", file=sys.stderr)
    return {
        "rps": rps,
        "n": int(n),
        "errors": int(errors) + (int(non2xx.group(1)) if non2xx else 0),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument(
        "--cold", action="store_true", help="no cached book fragments (BOOK_FRAGMENT_SECONDS=0): every page renders all"
    )
    args = parser.parse_args()
    cookies, book, facility_pk = session_cookies()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bench_settings"}
    if args.cold:
        env["BOOK_FRAGMENT_SECONDS"] = "0"
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
            "--keep-alive",
            "30",
        ],
        env=env,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    try:
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/bench/floor/{facility_pk}/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        scripts = {}
        for kind, values in (("anonymous", [""]), ("doctor", cookies)):
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                fh.write(LUA.replace("__COOKIES__", ", ".join(f'"{v}"' for v in values)))
            scripts[kind] = fh.name
        urls = {
            "floor (1 PK query + small template)": f"{base}/bench/floor/{facility_pk}/",
            "floor, signed in (same view + session, MFA and user-session middleware)": f"{base}/bench/floor/{facility_pk}/?signed-in",
            "book page (500 visits)": f"{base}/doctor/books/{book}/",
            "timeline page (500 visits, first 25)": f"{base}/doctor/books/{book}/timeline/",
            "timeline htmx partial": f"{base}/doctor/books/{book}/timeline/?kind=visit&kind=lab",
        }

        def script(name):
            return scripts["anonymous" if name.startswith("floor (") else "doctor"]

        for name, url in urls.items():  # warm caches (code names, connections)
            wrk(url, 2, script(name))
        results = {name: wrk(url, args.seconds, script(name)) for name, url in urls.items()}
    finally:
        server.terminate()
        server.wait(timeout=20)
    floor = results["floor (1 PK query + small template)"]["rps"]
    print("| page | req/s | p50 | p95 | p99 | errors | vs floor |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['p99']:.0f} ms | {r['errors']}"
            f" | {r['rps'] / floor:.2f}× |"
        )


if __name__ == "__main__":
    main()
