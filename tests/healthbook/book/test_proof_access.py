"""Proof rows S8 (no care relationship), S9 (break-the-glass) and R8 (access-log tampering).

The single rules are asserted one by one in test_access_rule.py, test_every_book_url.py,
test_api.py and test_access_log_chain.py; these tests run every variant and count.
"""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse
from django.utils import timezone

from accesslog.chain import chain_verify
from accesslog.checkpoints import checkpoint_read, checkpoint_write
from accesslog.models import AccessLogEntry, EmergencyAccess, Outcome
from healthbook.models import Encounter
from tests.accesslog.test_access_log_chain import as_attacker, head_seq, write
from tests.healthbook.book.conftest import facility_headers, log_count
from tests.healthbook.book.test_every_book_url import ROUTES, _samples, _url, kind_of

pytestmark = pytest.mark.django_db

CLINICAL = ("Huyết áp 150/95", "Tăng huyết áp", "Glucose")


# --- S8 -------------------------------------------------------------------------------------


def test_s8_doctor_without_care_relationship_opens_nothing(proof, client, login, doctor_b, patient_a, key_b):
    book_routes = [(r, p) for r, p in ROUTES if kind_of(p.callback) == "book"]
    row = proof.row(
        "S8",
        f"a doctor of another facility (no visit, referral, appointment or card) opens every book URL "
        f"({len(book_routes)}: pages, history API, FHIR $everything) of a citizen seen elsewhere",
    )
    visit = Encounter.objects.get(book=patient_a.book)
    samples = _samples(patient_a, visit)
    opened = audited = offered = leaked = 0
    statuses = []
    login(doctor_b)  # enrols TOTP once; later sign-ins reuse it
    for route, pattern in book_routes:
        url = _url(route, pattern, samples)
        before = log_count()
        if route.startswith(("api/", "fhir/")):
            client.logout()
            response = client.get(url, **facility_headers(key_b, "doctor_b"))
            body = response.content.decode()
            offered += response.status_code == 403 and (
                "no_care_relationship" in body or '"resourceType":"OperationOutcome"' in body.replace(" ", "")
            )
        else:
            login(doctor_b, mfa=False)
            response = client.get(url)
            offered += response.status_code == 403 and 'id="emergency-form"' in response.content.decode()
        opened += response.status_code < 300
        statuses.append((route, response.status_code))
        leaked += any(text in response.content.decode() for text in CLINICAL)
        new = AccessLogEntry.objects.filter(seq__gt=0).order_by("-seq")[: log_count() - before]
        audited += len(new) == 1 and new[0].outcome == Outcome.DENIED and new[0].citizen_id == patient_a.pk
    n = len(book_routes)
    row.set(
        times=n,
        figure=f"opened without relationship {opened}/{n}; refused 403 with the emergency-access offer (page form; "
        f"API code no_care_relationship; FHIR OperationOutcome) {offered}/{n}; "
        f"refusal logged as one DENIED entry {audited}/{n}; "
        f"clinical text in refusals {leaked}",
    )
    assert opened == 0 and offered == n and audited == n and leaked == 0, statuses


# --- S9 -------------------------------------------------------------------------------------


def test_s9_break_the_glass_needs_a_reason_ends_and_shows_in_the_citizens_log(
    proof, client, login, doctor_b, officer_hcm, patient_a, key_b, citizen_app_key, settings
):
    row = proof.row(
        "S9",
        "break-the-glass on the page and through the API: without/with empty/unknown reason, 'other' without "
        "text; then with a reason: the province's review queue, access log, citizen's log, access after the time limit",
    )
    settings.SSKDT_EMERGENCY_ACCESS_MINUTES = 60
    emergency = reverse("book-emergency", kwargs={"public_id": patient_a.book.public_id})
    book = reverse("book-detail", kwargs={"public_id": patient_a.book.public_id})
    history = reverse("api-citizen-history", kwargs={"book": patient_a.book.public_id})

    # 1. no valid reason: nothing opens
    login(doctor_b)  # enrols TOTP; later sign-ins reuse it
    no_reason = [
        client.post(emergency, {}),
        client.post(emergency, {"reason": ""}),
        client.post(emergency, {"reason": "because"}),
        client.post(emergency, {"reason": "other", "reason_text": "   "}),
    ]
    client.logout()
    no_reason += [
        client.get(history, **facility_headers(key_b, "doctor_b", "ETREAT")),
        client.get(history, **facility_headers(key_b, "doctor_b", "ETREAT", **{"X-Emergency-Reason": "nope"})),
    ]
    granted_without_reason = EmergencyAccess.objects.count() + sum(r.status_code < 300 for r in no_reason)

    # 2. with a reason: opens, logged ETREAT, queued for the province (officer of facility B's province)
    login(doctor_b, mfa=False)
    started = client.post(emergency, {"reason": "unconscious"})
    opened = client.get(book)
    client.logout()
    api = client.get(history, **facility_headers(key_b, "doctor_b", "ETREAT", **{"X-Emergency-Reason": "transfer"}))
    grants = list(EmergencyAccess.objects.all())
    starts = AccessLogEntry.objects.filter(citizen_id=patient_a.pk, event="emergency_start", outcome=Outcome.SUCCESS)
    etreat = all(e.purpose == "ETREAT" for e in starts)
    queue = login(officer_hcm).get(reverse("emergency-review-list")).content.decode()
    client.logout()
    queued = sum(str(g.public_id) in queue for g in grants)

    # 3. the citizen sees each emergency open in their own log
    log = client.post(
        reverse("api-citizen-access-log"),
        {"personal_id": patient_a.personal_id},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Citizen-App-Key {citizen_app_key}",
    ).json()
    shown = sum(item["emergency"] for item in log["people"] + log["machines"])
    emergency_entries = AccessLogEntry.objects.filter(citizen_id=patient_a.pk, purpose="ETREAT").count()

    # 4. after the time limit (expiry moved 1 s into the past: no clock library is installed)
    EmergencyAccess.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    login(doctor_b, mfa=False)
    after_page = client.get(book)
    client.logout()
    after_api = client.get(history, **facility_headers(key_b, "doctor_b", "TREAT"))
    after_ttl = sum(r.status_code < 300 for r in (after_page, after_api))

    row.set(
        times=len(no_reason) + 2 + 2,
        figure=f"BTG without a valid reason {granted_without_reason}/{len(no_reason)}; with a reason: opened "
        f"{int(started.status_code == 302 and opened.status_code == 200)}/1 page, "
        f"{int(api.status_code == 200)}/1 API, logged emergency_start/ETREAT {len(starts)}/2, in the province's "
        f"review queue {queued}/{len(grants)}; BTG events missing from the citizen's log "
        f"{emergency_entries - shown}; access after the time limit {after_ttl}/2",
    )
    assert granted_without_reason == 0
    assert started.status_code == 302 and opened.status_code == 200 and api.status_code == 200
    assert len(grants) == 2 and len(starts) == 2 and etreat and queued == 2
    assert emergency_entries >= 4 and shown == emergency_entries
    assert after_ttl == 0


# --- R8 -------------------------------------------------------------------------------------


def _app_role_statement(statement: str, role: str) -> bool:
    """True when the database refused `statement` run as the application role given every
    privilege on the log (it has far fewer: T6, tests/accesslog/test_access_log_trust.py)."""
    with connection.cursor() as cur:
        cur.execute(f"GRANT ALL ON accesslog_entry, accesslog_chain_head TO {connection.ops.quote_name(role)}")
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"SET LOCAL ROLE {connection.ops.quote_name(role)}")
            cur.execute(statement)
    except DatabaseError:
        return True
    return False


def test_r8_every_tampering_is_refused_or_detected(proof, tmp_path, app_role):
    row = proof.row(
        "R8",
        "application role: UPDATE, DELETE, TRUNCATE on the log and its head; superuser with triggers off: "
        "edit a row, edit and re-hash, delete a middle row, reorder two rows, swap contents, delete the tail, "
        "delete the tail and rewrite the head (caught by the checkpoint kept outside the database)",
    )
    statements = [
        "UPDATE accesslog_entry SET actor_username = 'x'",
        "DELETE FROM accesslog_entry",
        "TRUNCATE accesslog_entry",
        "UPDATE accesslog_chain_head SET seq = seq - 1",
        "DELETE FROM accesslog_chain_head",
    ]
    write(6)
    denied = sum(_app_role_statement(s, app_role) for s in statements)
    assert chain_verify().ok

    from accesslog.chain import FIELDS, entry_hash

    def edit(top):
        as_attacker("UPDATE accesslog_entry SET actor_username = 'someone-else' WHERE seq = %s", [top - 2])

    def rehash(top):
        with connection.cursor() as cur:
            cur.execute(f"SELECT {', '.join(FIELDS)} FROM accesslog_entry WHERE seq = %s", [top - 2])  # noqa: S608
            entry = dict(zip(FIELDS, cur.fetchone(), strict=True))
        entry["actor_username"] = "forged"
        as_attacker(
            "UPDATE accesslog_entry SET actor_username = 'forged', row_hash = %s WHERE seq = %s",
            [entry_hash(entry["prev_hash"].strip(), entry), top - 2],
        )

    def delete_middle(top):
        as_attacker("DELETE FROM accesslog_entry WHERE seq = %s", [top - 2])

    def reorder(top):
        a, b = top - 3, top - 2
        as_attacker("UPDATE accesslog_entry SET seq = -1 WHERE seq = %s", [a])
        as_attacker("UPDATE accesslog_entry SET seq = %s WHERE seq = %s", [a, b])
        as_attacker("UPDATE accesslog_entry SET seq = %s WHERE seq = -1", [b])

    def swap(top):
        as_attacker(
            "UPDATE accesslog_entry e SET actor_username = o.actor_username FROM accesslog_entry o"
            " WHERE (e.seq, o.seq) IN ((%s, %s), (%s, %s))",
            [top - 3, top - 2, top - 2, top - 3],
        )

    def delete_tail(top):
        as_attacker("DELETE FROM accesslog_entry WHERE seq > %s", [top - 2])

    def delete_tail_rewrite_head(top):
        delete_tail(top)
        as_attacker(
            "UPDATE accesslog_chain_head SET seq = e.seq, row_hash = e.row_hash FROM accesslog_entry e"
            " WHERE e.seq = %s",
            [top - 2],
        )

    cases = [edit, rehash, delete_middle, reorder, swap, delete_tail, delete_tail_rewrite_head]
    detected, named_first_break = 0, 0
    path = tmp_path / "checkpoint.json"
    for case in cases:  # each case from a sound chain: rolled back to a savepoint afterwards
        sid = transaction.savepoint()
        checkpoint_write(chain_verify(), path)
        top = head_seq()
        case(top)
        result = chain_verify(checkpoint=checkpoint_read(path))
        detected += not result.ok
        named_first_break += not result.ok and (
            result.broken_seq is not None or "checkpoint" in result.reason or "newest" in result.reason
        )
        transaction.savepoint_rollback(sid)
    assert chain_verify().ok  # every case was rolled back
    undetected = len(cases) - detected
    row.set(
        times=len(statements) + len(cases),
        figure=f"application role refused {denied}/{len(statements)}; superuser tampering detected "
        f"{detected}/{len(cases)} (undetected {undetected}), each naming the first broken entry or the missing tail",
    )
    assert denied == len(statements) and undetected == 0 and named_first_break == len(cases)
