"""A fake of the national notification gateway (VNeID app) and of the SMS gateway, for `make
run` and the tests: a real HTTP server (stdlib) that checks each request the way the contract
says (docs/notifications.md: signature, timestamp, idempotency key) and records what it got.

    python -m config.fakegateway --port 8025        # keys from SSKDT_FAKE_GATEWAY_KEYS="id:secret,…"

    POST /vneid/notifications, /sms/messages    a message (any other POST path is kept as well)
    GET  /_received                             what was delivered, in order (JSON)
    POST /_control {"fail_status": 503, "fail_count": 2, "lose_response_count": 1,
                    "refuse_status": 400}       make the next requests fail (see below)
    POST /_reset                                forget everything

`fail_count` requests answer `fail_status` (nothing delivered); `lose_response_count` requests
are delivered and then answer 503, as if the answer were lost on the way back (the retry must
not deliver twice); `refuse_status` answers every message with that 4xx until reset. Tests run it
in a thread (`FakeGateway(keys=…).start()`); the launcher runs it as a process.
"""

import argparse
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from healthbook.notifications import signing

DEV_KEY_ID, DEV_SECRET = "dev-portal", "dev-only-notify-secret"  # the launcher's pair (never production)


class _State:
    def __init__(self, keys: dict[str, str], log_path: str | None):
        self.keys, self.log_path = keys, log_path
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.received: list[dict] = []
        self.seen: set[str] = set()
        self.requests = 0
        self.duplicates = 0
        self.refused: list[dict] = []
        self.control = {"fail_status": 503, "fail_count": 0, "lose_response_count": 0, "refuse_status": 0}


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeGateway/1"

    def log_message(self, format, *args):  # quiet: the record is /_received
        pass

    @property
    def state(self) -> _State:
        return self.server.state

    def _answer(self, status: int, body: dict):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_received":
            with self.state.lock:
                body = {
                    "received": self.state.received,
                    "requests": self.state.requests,
                    "duplicates": self.state.duplicates,
                    "refused": self.state.refused,
                }
            return self._answer(200, body)
        return self._answer(404, {"reason": "not_found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path in ("/_control", "/_reset"):
            with self.state.lock:
                if self.path == "/_reset":
                    self.state.reset()
                else:
                    self.state.control.update(json.loads(body or b"{}"))
            return self._answer(200, {"ok": True})
        self._message(body)

    def _message(self, body: bytes):
        state = self.state
        with state.lock:
            state.requests += 1
            reason = signing.verify(self.headers, body, state.keys)
            message_id = self.headers.get(signing.IDEMPOTENCY_HEADER) or ""
            try:
                payload = json.loads(body)
            except ValueError:
                payload, reason = None, reason or "bad_json"
            if reason is None and (not isinstance(payload, dict) or payload.get("message_id") != message_id):
                reason = "idempotency_key_mismatch"
            if reason:
                state.refused.append({"path": self.path, "reason": reason})
                return self._answer(
                    401 if reason in ("unknown_key", "bad_signature", "stale_timestamp") else 400, {"reason": reason}
                )
            control = state.control
            if control["refuse_status"]:
                state.refused.append({"path": self.path, "reason": "refused_by_control"})
                return self._answer(int(control["refuse_status"]), {"reason": "recipient_unknown"})
            if control["fail_count"] > 0:
                control["fail_count"] -= 1
                return self._answer(int(control["fail_status"]), {"reason": "gateway_unavailable"})
            if message_id in state.seen:
                state.duplicates += 1
                return self._answer(200, {"status": "duplicate", "message_id": message_id})
            state.seen.add(message_id)
            record = {
                "path": self.path,
                "message_id": message_id,
                "key_id": self.headers.get(signing.KEY_ID_HEADER),
                "body": payload,
            }
            state.received.append(record)
            if state.log_path:
                with open(state.log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(record, ensure_ascii=False) + "\n")
            if control["lose_response_count"] > 0:
                control["lose_response_count"] -= 1
                return self._answer(503, {"reason": "answer_lost"})
        return self._answer(202, {"status": "accepted", "message_id": message_id})


class FakeGateway:
    """The server in a thread: `url` once started; `received()` reads what it got."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, keys: dict[str, str] | None = None, log_path=None):
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = _State(keys or {DEV_KEY_ID: DEV_SECRET}, log_path)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def state(self) -> _State:
        return self.httpd.state

    def start(self) -> "FakeGateway":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def control(self, **settings) -> None:
        with self.state.lock:
            self.state.control.update(settings)


def _keys_from_env() -> dict[str, str]:
    raw = os.environ.get("SSKDT_FAKE_GATEWAY_KEYS", f"{DEV_KEY_ID}:{DEV_SECRET}")
    return dict(pair.split(":", 1) for pair in raw.split(",") if ":" in pair)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SSKDT_FAKE_GATEWAY_PORT", "8025")))
    parser.add_argument("--log", default=os.environ.get("SSKDT_FAKE_GATEWAY_LOG"))
    args = parser.parse_args()
    gateway = FakeGateway(host=args.host, port=args.port, keys=_keys_from_env(), log_path=args.log)
    print(f"Fake notification gateway on {gateway.url} (GET /_received)", flush=True)
    try:
        gateway.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
