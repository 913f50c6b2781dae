"""The checkpoint sink over HTTP (production: a service on another host), against a real local
HTTP server: the task POSTs, verification GETs them back, a forged one is caught, a sink that
cannot be reached stops the sealing."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accesslog.tasks import access_log_checkpoint_task
from tests.accesslog.test_access_log_chain import write

pytestmark = pytest.mark.django_db
TOKEN = "checkpoint-collector-token"


class Collector:
    """A minimal checkpoint store: keeps what is POSTed (with a bearer token), answers it to GET."""

    def __init__(self):
        self.received: list[dict] = []
        self.authorizations: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _refuse(self) -> bool:
                outer.authorizations.append(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_response(401)
                    self.end_headers()
                    return True
                return False

            def do_POST(self):
                if self._refuse():
                    return
                length = int(self.headers.get("Content-Length", 0))
                outer.received.append(json.loads(self.rfile.read(length)))
                self.send_response(201)
                self.end_headers()

            def do_GET(self):
                if self._refuse():
                    return
                body = json.dumps(outer.received).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/checkpoints"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector(settings):
    c = Collector()
    settings.SSKDT_ACCESS_LOG_CHECKPOINT = c.url
    settings.SSKDT_ACCESS_LOG_CHECKPOINT_TOKEN = TOKEN
    yield c
    c.close()


def test_task_posts_checkpoints_and_verification_reads_them_back(collector, capsys):
    write(3)
    assert access_log_checkpoint_task().startswith("OK")
    write(2)
    assert access_log_checkpoint_task().startswith("OK")
    assert [cp["seq"] for cp in collector.received][-1] == collector.received[0]["seq"] + 2
    assert all(cp["mac"] and cp["key_id"] for cp in collector.received)
    assert set(collector.authorizations) == {f"Bearer {TOKEN}"}
    call_command("verify_access_log")
    out = capsys.readouterr().out
    assert "2 authentic" in out and "\nOK:" in out


def test_a_checkpoint_posted_without_the_key_fails_verification(collector):
    write(2)
    assert access_log_checkpoint_task().startswith("OK")
    collector.received.append({**collector.received[-1], "row_hash": "f" * 64})
    with pytest.raises(CommandError, match="authentication"):
        call_command("verify_access_log")


def test_an_unreachable_sink_seals_nothing(settings, collector):
    write(2)
    collector.close()
    result = access_log_checkpoint_task()
    assert result.startswith("ERROR") and "cannot be read" in result
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("verify_access_log")


def test_a_sink_refusing_the_token_seals_nothing(settings, collector):
    settings.SSKDT_ACCESS_LOG_CHECKPOINT_TOKEN = "wrong"
    write(1)
    assert access_log_checkpoint_task().startswith("ERROR") and collector.received == []
