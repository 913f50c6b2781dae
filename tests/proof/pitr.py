"""R9 harness: a throwaway PostgreSQL 15 cluster with WAL archiving, a base backup, writes, a
dropped table and a point-in-time restore — the production procedure of README "Backups",
shrunk to one machine and a temp directory.

Everything runs on its own port in its own directory and is stopped by its own pg_ctl; the
shared cluster on 5432 is never touched. As root the server binaries run as the `postgres`
system user (PostgreSQL refuses to run as root).

Used by tests/proof/test_restore_drill.py (`make proof`), and runnable by hand::

    PITR_DRILL_WRITE_SECONDS=600 .venv/bin/python -m pytest --proof-long tests/proof/test_restore_drill.py
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("PITR_PG_BIN", "/usr/lib/postgresql/15/bin"))
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> list[str]:
    """Prefix that runs a server binary as the postgres user when we are root."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _chown_tree(path: Path) -> None:
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam("postgres")
    for p in [path, *path.rglob("*")]:
        os.chown(p, pw.pw_uid, pw.pw_gid)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc


@dataclass
class Cluster:
    """One data directory and the server running on it."""

    data: Path
    port: int
    log: Path
    started: bool = False

    @property
    def url_base(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def url(self, db: str) -> str:
        return f"{self.url_base}/{db}"

    def pg(self, tool: str, *args: str, **kw) -> subprocess.CompletedProcess:
        return run([*_as_postgres(), str(PG_BIN / tool), *args], **kw)

    def start(self, timeout: int = 120) -> None:
        self.pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(timeout),
            "-o",
            f"-p {self.port}",
            "start",
        )
        self.started = True

    def stop(self, mode: str = "fast") -> None:
        if self.started:
            subprocess.run(
                [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                capture_output=True,
                text=True,
            )
            self.started = False

    def sql(self, db: str, statement: str) -> str:
        return run(
            [str(PG_BIN / "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(db), "-c", statement]
        ).stdout.strip()


@dataclass
class Drill:
    """The whole drill in one temp directory: primary, WAL archive, base backup, restored copy."""

    write_seconds: float
    archive_timeout: int = 5
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sskdt-pitr-")))
    db: str = "sskdt_drill"
    primary: Cluster | None = None
    restored: Cluster | None = None

    @property
    def archive(self) -> Path:
        return self.root / "wal-archive"

    def __post_init__(self):
        (self.root / "logs").mkdir()
        self.archive.mkdir()
        self.root.chmod(0o755)
        _chown_tree(self.root)

    # -- the primary ------------------------------------------------------------------------

    def init_primary(self) -> Cluster:
        data = self.root / "primary"
        run(
            [
                *_as_postgres(),
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        conf = (
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\n"
            "wal_level = replica\n"
            "archive_mode = on\n"
            f"archive_command = 'test ! -f {self.archive}/%f && cp %p {self.archive}/%f'\n"
            f"archive_timeout = {self.archive_timeout}\n"
            "max_wal_senders = 4\n"
            "shared_buffers = 32MB\n"
            "log_min_messages = warning\n"
        )
        with open(data / "postgresql.conf", "a") as fh:
            fh.write(conf)
        self.primary = Cluster(data, free_port(), self.root / "logs" / "primary.log")
        self.primary.start()
        self.primary.sql("postgres", f"CREATE DATABASE {self.db}")
        return self.primary

    def django_env(self, cluster: Cluster) -> dict:
        return os.environ | {
            "DATABASE_URL": cluster.url(self.db),
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "SSKDT_ACCESS_LOG_CHECKPOINT": str(self.root / "checkpoints.jsonl"),
            "PYTHONPATH": str(ROOT),
        }

    def migrate(self) -> None:
        run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=self.django_env(self.primary),
        )
        self.primary.sql(
            self.db,
            "CREATE TABLE drill_writes (id bigserial PRIMARY KEY, "
            "written_at timestamptz NOT NULL DEFAULT clock_timestamp(), payload text NOT NULL)",
        )

    def base_backup(self) -> Path:
        target = self.root / "base"
        self.primary.pg(
            "pg_basebackup",
            "-d",
            self.primary.url_base + "/postgres",
            "-D",
            str(target),
            "-Fp",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        return target

    def write(self, seconds: float, out: Path) -> subprocess.Popen:
        """Start the writer (a Django process): rows plus access-log entries, each acknowledged
        commit appended to `out` with the client's clock."""
        cmd = [sys.executable, "-m", "tests.proof.pitr_writer", "--seconds", str(seconds), "--out", str(out)]
        return subprocess.Popen(
            cmd, cwd=ROOT, env=self.django_env(self.primary), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    # -- the restore ------------------------------------------------------------------------

    def restore(self, base: Path, target_time: str) -> Cluster:
        data = self.root / "restored"
        shutil.copytree(base, data, symlinks=True)
        conf = (
            f"restore_command = 'cp {self.archive}/%f %p'\n"
            f"recovery_target_time = '{target_time}'\n"
            "recovery_target_action = 'promote'\n"
            "recovery_target_inclusive = false\n"
            "archive_mode = off\n"
        )
        with open(data / "postgresql.auto.conf", "a") as fh:
            fh.write(conf)
        (data / "recovery.signal").write_text("")
        _chown_tree(data)
        (data).chmod(0o700)
        self.restored = Cluster(data, free_port(), self.root / "logs" / "restored.log")
        self.restored.start(timeout=600)
        deadline = time.monotonic() + 600
        while self.restored.sql("postgres", "SELECT pg_is_in_recovery()") != "f":
            if time.monotonic() > deadline:
                raise RuntimeError("the restored cluster never left recovery")
            time.sleep(0.2)
        return self.restored

    def cleanup(self, keep: bool = False) -> None:
        for cluster in (self.restored, self.primary):
            if cluster is not None:
                cluster.stop("immediate")
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def read_acks(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
