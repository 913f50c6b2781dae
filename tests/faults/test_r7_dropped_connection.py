"""R7: facility software over a flaky line. The server commits the submission, then the
connection drops before the client reads the answer; the client sends the same push again.

A live server (real sockets, threads, committed transactions): each push is written raw to a
socket, the test waits until the submission is committed in PostgreSQL, then closes the socket
without reading a byte of the answer; the retry goes over a new connection. With the same
Idempotency-Key the retry must return the stored answer (same id, `Idempotent-Replayed`);
without a key the retry is a second submission whose content the processing recognises, so
the book still holds each visit once.
"""

import http.client
import json
import random
import socket
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from healthbook.intake.demo.submissions import build_envelope, load_seed, make_citizen, make_visit
from healthbook.models import Encounter, Submission
from tests.conftest import TRANSACTIONAL
from tests.faults.harness import wait_for
from tests.healthbook.intake.conftest import FACILITY, sign

pytestmark = [TRANSACTIONAL]

PUSHES = 4  # per variant


def _envelopes(n, spec, today, leaf):
    rng = random.Random(70)
    icd, labs = load_seed()
    base = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=8)
    out = []
    for i in range(n):
        visit = make_visit(rng, make_citizen(rng, 100 + i), FACILITY, 1, base, icd, labs, 5, 2)
        out.append((visit["XML1"][0]["MA_LK"], sign(build_envelope(FACILITY, [visit], today, spec), leaf)))
    return out


def _request(body: bytes, key: str, idem: str | None, host: str) -> bytes:
    head = [
        "POST /api/v1/submissions/ HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/xml",
        f"Content-Length: {len(body)}",
        f"Authorization: Api-Key {key}",
        "Connection: close",
    ]
    if idem:
        head.append(f"Idempotency-Key: {idem}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _push_and_drop(url, sender, body, idem, committed_before: int) -> None:
    """Send the whole push, wait for the commit, then drop the connection unread."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    try:
        sock.sendall(_request(body, sender.key, idem, parts.netloc))
        wait_for(lambda: Submission.objects.count() > committed_before, 20, "the server to commit the push")
    finally:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
        sock.close()


def _push(url, sender, body, idem):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Content-Type": "application/xml", "Authorization": f"Api-Key {sender.key}"}
    if idem:
        headers["Idempotency-Key"] = idem
    conn.request("POST", "/api/v1/submissions/", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), json.loads(data)


@pytest.mark.parametrize("with_key", [True, False], ids=["idempotency-key", "no-key"])
def test_connection_dropped_after_commit_then_retry(
    proof, live_server, sender, spec, today, pki, intake_codelists, settings, with_key
):
    settings.INTAKE_PROCESS_INLINE = True  # the server processes on commit, as a worker would right after
    pushes = _envelopes(PUSHES, spec, today, pki["valid"])
    replays, same_id, statuses = 0, 0, []
    for n, (_, body) in enumerate(pushes):
        idem = f"his-push-{n}" if with_key else None
        before = Submission.objects.count()
        _push_and_drop(live_server.url, sender, body, idem, before)
        first = Submission.objects.order_by("-pk").first()
        status, headers, data = _push(live_server.url, sender, body, idem)
        statuses.append(status)
        replays += headers.get("Idempotent-Replayed") == "true"
        same_id += data.get("id") == str(first.public_id)

    wait_for(
        lambda: not Submission.objects.filter(status__in=["received", "processing"]).exists(),
        30,
        "every submission processed",
    )
    per_visit = {ma_lk: Encounter.objects.filter(key=ma_lk).count() for ma_lk, _ in pushes}
    duplicates = sum(max(0, c - 1) for c in per_visit.values())
    lost = sum(c == 0 for c in per_visit.values())
    submissions = Submission.objects.count()
    marked_dup = Submission.objects.exclude(duplicate_of=None).count()

    if with_key:
        proof.row(
            "R7", f"{PUSHES} pushes: server commits, connection dropped unread, retried with the same Idempotency-Key"
        ).set(
            times=PUSHES,
            figure=f"records per visit: duplicates {duplicates}, lost {lost}; submissions stored {submissions} "
            f"for {PUSHES} pushes; retries answered with the stored response: {same_id}/{PUSHES} "
            f"(Idempotent-Replayed {replays}/{PUSHES}, statuses {sorted(set(statuses))})",
        )
        assert submissions == PUSHES and same_id == replays == PUSHES
    else:
        proof.row("R7", f"{PUSHES} pushes: server commits, connection dropped unread, retried without a key").set(
            times=PUSHES,
            figure=f"records per visit: duplicates {duplicates}, lost {lost}; {submissions} submissions stored, "
            f"{marked_dup} recognised as a repeat of an earlier one (statuses {sorted(set(statuses))})",
        )
        assert submissions == 2 * PUSHES and marked_dup == PUSHES and same_id == 0
    assert set(statuses) == {202}
    assert duplicates == 0 and lost == 0
