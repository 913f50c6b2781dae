"""R13 harness (issue 21, point 4): several "hosts" on this machine, each a Linux network namespace.

    root namespace  ── bridge 10.231.N.1/24 (the driver: pytest, the load clients) ──┐
      ├── db       10.231.N.10   throwaway PostgreSQL 15 (5432) and redis-server (6379)
      ├── web      10.231.N.20   gunicorn (8000)
      ├── worker1  10.231.N.31   Celery worker with the beat
      └── worker2  10.231.N.32   Celery worker

Each namespace holds `lo` and one end of a veth pair (renamed eth0) whose other end is enslaved to
the bridge; nothing else. The machine's own PostgreSQL and Redis (127.0.0.1:5432/6379 of the root
namespace) cannot be reached from a host namespace at all: its 127.0.0.1 is its own `lo`. N is
chosen per run (from the PID) so that two runs do not share a subnet. Everything made here —
namespaces, links, the cluster, the processes — is removed by `Hosts.close()`, which the test calls
in `finally`; an `atexit` hook calls it again if the interpreter is leaving without it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults import harness as h

ROOT = h.ROOT
ADDRESSES = {"db": 10, "web": 20, "worker1": 31, "worker2": 32}


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def netns_missing() -> str:
    """Empty when network namespaces and veth links can be made here, else the reason they cannot."""
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2) on this machine"
    if os.geteuid() != 0:
        return "not root: `ip netns add` needs CAP_SYS_ADMIN and CAP_NET_ADMIN"
    probe = f"sskdt-probe-{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode:
        return f"`ip netns add` refused here (no CAP_NET_ADMIN?): {made.stderr.strip()[:200]}"
    try:
        link = _ip("link", "add", f"skp{os.getpid() % 100000}", "type", "veth", "peer", "name", "eth0", "netns", probe)
        if link.returncode:
            return f"veth links cannot be made here: {link.stderr.strip()[:200]}"
        _ip("link", "del", f"skp{os.getpid() % 100000}", check=False)
    finally:
        _ip("netns", "del", probe, check=False)
    return ""


@functools.cache
def missing() -> str:
    """Why R13 cannot run here ("" when it can): asked once per session."""
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "no `runuser` (util-linux) to start PostgreSQL as `postgres` inside a namespace"
    return netns_missing() or h.pg_available() or h.redis_missing()


@dataclass
class Hosts:
    """The namespaces, the bridge and what runs in them; `close()` removes all of it."""

    base: Path
    tag: str = field(default_factory=lambda: str(os.getpid() % 10000))
    octet: int = field(default_factory=lambda: _free_octet(100 + os.getpid() % 150))
    procs: dict = field(default_factory=dict)
    made_ns: list = field(default_factory=list)
    made_links: list = field(default_factory=list)
    cluster: NsPgCluster | None = None
    closed: bool = False

    # --- addresses and names ---------------------------------------------------------------------

    def addr(self, host: str) -> str:
        return f"10.231.{self.octet}.{ADDRESSES[host] if host != 'root' else 1}"

    def ns(self, host: str) -> str:
        return f"sskdt{self.tag}-{host}"

    @property
    def bridge(self) -> str:
        return f"skbr{self.tag}"

    def folder(self, host: str) -> Path:
        """The host's own working folder: cwd, HOME, TMPDIR and SSKDT_VAR_DIR live under it (made by
        `up`)."""
        return self.base / "hosts" / host

    @property
    def shared_media(self) -> Path:
        """The one shared folder (SSKDT_MEDIA_ROOT), standing in for the NFS/object storage every
        host mounts in production: card files go from the web host to the workers through it."""
        return self.base / "shared-media"

    # --- the network -----------------------------------------------------------------------------

    def up(self) -> Hosts:
        atexit.register(self.close)
        self.shared_media.mkdir(parents=True)
        for host in ADDRESSES:
            for sub in ("home", "tmp", "var"):
                (self.folder(host) / sub).mkdir(parents=True)
        _ip("link", "add", self.bridge, "type", "bridge")
        self.made_links.append(self.bridge)
        _ip("addr", "add", f"{self.addr('root')}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for n, host in enumerate(ADDRESSES):
            ns, outer = self.ns(host), f"sk{self.tag}v{n}"
            _ip("netns", "add", ns)
            self.made_ns.append(ns)
            _ip("link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self.made_links.append(outer)
            _ip("link", "set", outer, "master", self.bridge)
            _ip("link", "set", outer, "up")
            for args in (
                ("addr", "add", f"{self.addr(host)}/24", "dev", "eth0"),
                ("link", "set", "eth0", "up"),
                ("link", "set", "lo", "up"),
            ):
                _ip("-n", ns, *args)
        return self

    def interfaces(self, host: str) -> dict[str, list[str]]:
        """Every interface of the host's namespace with its IPv4 addresses."""
        out: dict[str, list[str]] = {}
        for line in _ip("-n", self.ns(host), "-o", "link").stdout.splitlines():
            out[line.split(":")[1].strip().split("@")[0]] = []
        for line in _ip("-n", self.ns(host), "-o", "-4", "addr").stdout.splitlines():
            parts = line.split()
            out.setdefault(parts[1], []).append(parts[3])
        return out

    def exec_cmd(self, host: str, cmd: list[str], *, user: str | None = None) -> list[str]:
        prefix = ["ip", "netns", "exec", self.ns(host)]
        if user:
            prefix += ["runuser", "-u", user, "--"]
        return [*prefix, *cmd]

    def run(self, host: str, cmd: list[str], *, env=None, cwd=None, timeout: float = 120, check: bool = True):
        done = subprocess.run(
            self.exec_cmd(host, cmd), env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode:
            raise AssertionError(f"{host}: {' '.join(cmd[:4])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return done

    def spawn(self, host: str, name: str, cmd: list[str], *, env: dict, cwd: Path) -> subprocess.Popen:
        log = open(self.base / f"{name}.log", "ab")  # noqa: SIM115 — the child keeps it
        proc = subprocess.Popen(
            self.exec_cmd(host, cmd), env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.base / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def reaches(self, host: str, address: str, port: int) -> bool:
        """Whether a TCP connection from inside `host` to address:port is accepted."""
        probe = (
            "import socket,sys\ns=socket.socket();s.settimeout(2)\n"
            f"sys.exit(0 if s.connect_ex(({address!r},{port}))==0 else 1)"
        )
        return self.run(host, [sys.executable, "-c", probe], check=False, timeout=20).returncode == 0

    # --- the database and the broker on the "db" host ---------------------------------------------

    def start_postgres(self) -> NsPgCluster:
        cluster = NsPgCluster(hosts=self, port=5432).init()
        self.cluster = cluster
        with open(cluster.datadir / "postgresql.conf", "a") as fh:
            fh.write(f"\nlisten_addresses = '{self.addr('db')}'\nmax_connections = 80\nlog_min_messages = warning\n")
        with open(cluster.datadir / "pg_hba.conf", "a") as fh:
            fh.write(f"\nhost all all 10.231.{self.octet}.0/24 trust\n")
        cluster.start()
        return cluster

    def start_redis(self) -> str:
        workdir = self.folder("db") / "redis"
        workdir.mkdir(exist_ok=True)
        cmd = ["redis-server", "--bind", self.addr("db"), "--port", "6379", "--protected-mode", "no"]
        cmd += ["--dir", str(workdir), "--save", "", "--appendonly", "no"]
        self.spawn("db", "redis", cmd, env={"PATH": os.environ["PATH"]}, cwd=workdir)
        h.wait_for(lambda: _port_open(self.addr("db"), 6379), 15, "redis-server on the db host")
        return f"redis://{self.addr('db')}:6379/0"

    # --- the end ---------------------------------------------------------------------------------

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for proc in reversed(list(self.procs.values())):
            with contextlib.suppress(Exception):
                h.kill_group(proc, signal.SIGKILL)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.destroy()
        for ns in self.made_ns:
            # Anything still inside (a child that left its process group) dies with the namespace's
            # last reference only when killed: `ip netns pids` names them, by PID.
            for pid in _ip("netns", "pids", ns, check=False).stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            _ip("netns", "del", ns, check=False)
        for link in self.made_links:
            _ip("link", "del", link, check=False)
        shutil.rmtree(self.base, ignore_errors=True)
        atexit.unregister(self.close)


def _free_octet(start: int) -> int:
    """N of a 10.231.N.0/24 no interface of the root namespace uses yet (another run's bridge)."""
    used = _ip("-o", "-4", "addr").stdout
    for n in range(150):
        octet = 100 + (start - 100 + n) % 150
        if f" 10.231.{octet}." not in used:
            return octet
    raise AssertionError("no free 10.231.N.0/24 subnet for the namespaces")


def _port_open(address: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((address, port)) == 0


@dataclass
class NsPgCluster(h.PgCluster):
    """A throwaway cluster (initdb in a temporary directory) whose server runs inside the db
    namespace, as the `postgres` system user, listening on the db host's veth address only."""

    hosts: Hosts | None = None

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        user = "postgres" if h._pg_user() is not None else None
        return subprocess.run(
            self.hosts.exec_cmd("db", [str(self.bindir / args[0]), *args[1:]], user=user),
            check=check,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
        )

    def url(self, db: str = "postgres") -> str:
        return f"postgres://postgres@{self.hosts.addr('db')}:{self.port}/{db}"


def clone_test_database(cluster: NsPgCluster, name: str, source: dict) -> str:
    """The migrated schema and the fixtures' committed rows, copied from pytest's test database
    (`source` = its settings_dict) over the bridge: pg_dump | psql, as in R3 and R12. Returns the
    superuser URL of the copy."""
    subprocess.run(
        [str(cluster.bindir / "createdb"), "-h", cluster.hosts.addr("db"), "-p", str(cluster.port), "-U", "postgres"]
        + [name],
        check=True,
        capture_output=True,
        timeout=60,
    )
    dump = subprocess.run(
        [str(cluster.bindir / "pg_dump"), "-h", source["HOST"] or "127.0.0.1", "-p", str(source["PORT"] or 5432)]
        + ["-U", source["USER"], "--no-owner", "--no-privileges", source["NAME"]],
        capture_output=True,
        check=True,
        timeout=300,
        env=os.environ | ({"PGPASSWORD": source["PASSWORD"]} if source.get("PASSWORD") else {}),
    )
    url = cluster.url(name)
    subprocess.run(
        [str(cluster.bindir / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", url],
        input=dump.stdout,
        capture_output=True,
        check=True,
        timeout=300,
    )
    return url


def host_env(hosts: Hosts, host: str, **settings: str) -> dict:
    """The whole environment of a process on `host`, built from nothing (the driver's own variables,
    which name 127.0.0.1, are not inherited): its own HOME, TMPDIR and SSKDT_VAR_DIR, the shared
    media folder, and the settings given (database and broker URLs on the db host's address)."""
    folder = hosts.folder(host)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(folder / "home"),
        "TMPDIR": str(folder / "tmp"),
        "SSKDT_VAR_DIR": str(folder / "var"),
        "SSKDT_MEDIA_ROOT": str(hosts.shared_media),
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DJANGO_ALLOWED_HOSTS": hosts.addr("web"),
        "SSKDT_PORTAL_BASE_URL": f"http://{hosts.addr('web')}:8000",
        "SSKDT_FHIR_BASE_URL": f"http://{hosts.addr('web')}:8000/fhir",
        **settings,
    }


def new_base() -> Path:
    return Path(tempfile.mkdtemp(prefix="sskdt-hosts-"))


def wait_http(address: str, port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("the web process exited")
        if _port_open(address, port):
            return
        time.sleep(0.2)
    raise AssertionError(f"nothing listening on {address}:{port} after {timeout:.0f} s")
