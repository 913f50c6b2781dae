"""Checkpoints of the access-log chain, kept outside the database (issue 15, T6).

A checkpoint says "the chain had `count` entries, the newest `seq` with hash `row_hash`, keyed
from `keyed_from` on", at `written_at`; it is authenticated with an HMAC under the chain's key
(SSKDT_ACCESS_LOG_KEY, never in the database), so a checkpoint nobody holding the key wrote is
recognised as forged. Checkpoints are appended to a sink outside the database
(SSKDT_ACCESS_LOG_CHECKPOINT):

- a file path (development): one JSON object per line, appended (fsync'ed);
- an `http://` or `https://` URL (production: a log collector or notary on another host, run
  by other people): each checkpoint is POSTed as JSON (`Authorization: Bearer
  SSKDT_ACCESS_LOG_CHECKPOINT_TOKEN` when set); a GET on the same URL must answer the
  checkpoints received, as a JSON array (or `{"checkpoints": [...]}`) — that is how
  verification reads them back. A syslog sink would need the same read-back (an export of the
  collector's copy, given to `verify_access_log --checkpoints FILE`).

`verify_access_log` holds the whole chain against every checkpoint; the hourly task verifies
the entries after the newest authentic checkpoint it reads back from the sink, and writes a new
one only over a chain that verified from there (tasks.py). A restore to an earlier moment
loses entries that later checkpoints name; `verify_access_log --rebase` then writes a
checkpoint marked `rebase`, which supersedes the earlier checkpoints beyond its seq (it takes
the key: nobody with the database alone can do it).

Checkpoints written before the key existed (one JSON object `{seq, row_hash, written_at}`, the
old file format) are read as "legacy": compared with the chain, never trusted as a start.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from accesslog.chain import ChainKey, VerifyResult, current_key, known_keys

_MAC_FIELDS = ("seq", "row_hash", "count", "keyed_from", "written_at", "rebase", "key_id")


class CheckpointSinkError(Exception):
    """The sink could not be written or read (unreachable, refused, unreadable answer)."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    row_hash: str
    written_at: str = ""
    count: int | None = None
    keyed_from: int | None = None
    rebase: bool = False
    key_id: str = ""
    mac: str = field(default="", compare=False)

    def signed_bytes(self) -> bytes:
        data = {name: getattr(self, name) for name in _MAC_FIELDS}
        return b"sskdt access log checkpoint\n" + json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def as_json(self) -> dict:
        return asdict(self)


def _mac(key: ChainKey, cp: Checkpoint) -> str:
    return hmac.new(key.secret, cp.signed_bytes(), hashlib.sha256).hexdigest()


def checkpoint_make(result: VerifyResult, *, rebase: bool = False) -> Checkpoint:
    """An authenticated checkpoint of a verified chain's head."""
    key = current_key()
    cp = Checkpoint(
        seq=result.head_seq,
        row_hash=result.head_hash,
        written_at=timezone.now().isoformat(),
        count=result.head_seq,  # seqs run 1..head without a gap in a chain that verified
        keyed_from=result.keyed_from,
        rebase=rebase,
        key_id=key.id,
    )
    return Checkpoint(**{**asdict(cp), "mac": _mac(key, cp)})


def checkpoint_authentic(cp: Checkpoint) -> bool:
    key = known_keys().get(cp.key_id)
    return key is not None and bool(cp.mac) and hmac.compare_digest(_mac(key, cp), cp.mac)


@dataclass
class Checkpoints:
    """What a sink holds, sorted: authentic checkpoints (the ones that count), legacy ones
    (before the key; compared, never trusted as a start) and forged ones (a MAC that does not
    verify: someone without the key wrote them)."""

    authentic: list[Checkpoint] = field(default_factory=list)
    legacy: list[Checkpoint] = field(default_factory=list)
    forged: list[dict] = field(default_factory=list)
    superseded: list[Checkpoint] = field(default_factory=list)

    @property
    def newest(self) -> Checkpoint | None:
        return max(self.authentic, key=lambda cp: (cp.seq, cp.written_at), default=None)

    @property
    def binding(self) -> list[Checkpoint]:
        """The checkpoints the chain must match: authentic and legacy ones not superseded."""
        return [*self.authentic, *self.legacy]

    def summary(self) -> str:
        parts = [f"{len(self.authentic)} authentic"]
        if self.newest:
            parts[0] += f" (newest seq {self.newest.seq})"
        if self.legacy:
            parts.append(f"{len(self.legacy)} written before the key (compared, not authenticated)")
        if self.superseded:
            parts.append(f"{len(self.superseded)} superseded by a restore (rebase)")
        if self.forged:
            parts.append(f"{len(self.forged)} FAILED authentication (not written by this portal's key)")
        return ", ".join(parts)


def _parse(records: list) -> Checkpoints:
    out = Checkpoints()
    for record in records:
        if not isinstance(record, dict) or "seq" not in record or "row_hash" not in record:
            out.forged.append(record if isinstance(record, dict) else {"raw": str(record)[:200]})
            continue
        try:
            cp = Checkpoint(
                seq=int(record["seq"]),
                row_hash=str(record["row_hash"]),
                written_at=str(record.get("written_at", "")),
                count=None if record.get("count") is None else int(record["count"]),
                keyed_from=None if record.get("keyed_from") is None else int(record["keyed_from"]),
                rebase=bool(record.get("rebase", False)),
                key_id=str(record.get("key_id", "")),
                mac=str(record.get("mac", "")),
            )
        except (TypeError, ValueError):
            out.forged.append(record)
            continue
        if not cp.mac and not cp.key_id:
            out.legacy.append(cp)
        elif checkpoint_authentic(cp):
            out.authentic.append(cp)
        else:
            out.forged.append(record)
    # A rebase checkpoint supersedes those written before it that name entries beyond it.
    out.authentic.sort(key=lambda cp: cp.written_at)
    for rebase in [cp for cp in out.authentic if cp.rebase]:
        for group in (out.authentic, out.legacy):
            gone = [cp for cp in group if cp.written_at < rebase.written_at and cp.seq > rebase.seq]
            out.superseded += gone
            group[:] = [cp for cp in group if cp not in gone]
    return out


# --- sinks ------------------------------------------------------------------------------------


class FileSink:
    """Development: one JSON line per checkpoint, appended and flushed to disk."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def write(self, cp: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(cp.as_json(), sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def read(self) -> list:
        if not self.path.exists():
            return []
        text = self.path.read_text(encoding="utf-8").strip()
        if not text:
            return []
        try:  # the former format: the whole file is one JSON object
            return [json.loads(text)]
        except json.JSONDecodeError:
            pass
        records = []
        for line in text.splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                records.append({"raw": line[:200]})
        return records


class HttpSink:
    """Production: POST each checkpoint to a service on another host; GET reads them back."""

    def __init__(self, url: str, *, token: str = "", timeout: float = 10.0):
        self.url, self.token, self.timeout = url, token, timeout

    def _request(self, method: str, body: bytes | None = None):
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, method=method, headers=headers)  # noqa: S310 — http(s) only
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 — http(s) only
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            raise CheckpointSinkError(f"{method} {self.url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise CheckpointSinkError(f"{method} {self.url}: {exc}") from None

    def write(self, cp: Checkpoint) -> None:
        status, _body = self._request("POST", json.dumps(cp.as_json()).encode())
        if not 200 <= status < 300:
            raise CheckpointSinkError(f"POST {self.url}: HTTP {status}")

    def read(self) -> list:
        status, body = self._request("GET")
        try:
            data = json.loads(body or b"[]")
        except json.JSONDecodeError:
            raise CheckpointSinkError(f"GET {self.url}: the answer is not JSON") from None
        if isinstance(data, dict):
            data = data.get("checkpoints", [])
        if not isinstance(data, list):
            raise CheckpointSinkError(f"GET {self.url}: expected a JSON array of checkpoints")
        return data


def checkpoint_sink(location: str | os.PathLike | None = None) -> FileSink | HttpSink:
    """The sink named by `location` or SSKDT_ACCESS_LOG_CHECKPOINT: a URL or a file path."""
    where = str(location or settings.SSKDT_ACCESS_LOG_CHECKPOINT)
    if where.startswith(("http://", "https://")):
        return HttpSink(
            where,
            token=getattr(settings, "SSKDT_ACCESS_LOG_CHECKPOINT_TOKEN", ""),
            timeout=getattr(settings, "SSKDT_ACCESS_LOG_CHECKPOINT_TIMEOUT", 10),
        )
    return FileSink(where)


def checkpoints_read(location: str | os.PathLike | None = None) -> Checkpoints:
    """Every checkpoint the sink holds, sorted into authentic, legacy and forged ones
    (CheckpointSinkError when it cannot be read)."""
    return _parse(checkpoint_sink(location).read())


def checkpoint_read(location: str | os.PathLike | None = None) -> Checkpoint | None:
    """The newest authentic checkpoint, or None."""
    return checkpoints_read(location).newest


def checkpoint_write(
    result: VerifyResult, location: str | os.PathLike | None = None, *, rebase: bool = False
) -> Checkpoint:
    """Seal a verified head outside the database (CheckpointSinkError when the sink refuses)."""
    if not result.ok:
        raise ValueError("only a verified chain is sealed")
    cp = checkpoint_make(result, rebase=rebase)
    checkpoint_sink(location).write(cp)
    return cp
