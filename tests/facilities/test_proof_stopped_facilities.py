"""Proof row T8 (issue 15, attack 8): doctors and keys of suspended or closed facilities read
nothing, and API keys expire with a reminder before.

On main a doctor of a suspended or closed facility kept reading: the book rule asked only for a
confirmed doctor at some facility. Every book path is tried here — the doctor's pages, the
search, emergency access, the history API, FHIR `$everything` and the lookup with a token the
doctor granted before the facility stopped, the old key-plus-headers call, a new OAuth2 grant —
and the facility's key on the intake and directory endpoints.
"""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accesslog.models import EmergencyAccess
from facilities.credentials import api_key_create, api_keys_expiry_remind
from facilities.models import Facility, FacilityApiKey, FacilityStatus
from facilities.tasks import api_key_expiry_remind_task
from tests.facilities.test_software_grants import REDIRECT, authorise, exchange, params, pkce
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db

NOTE = "Viêm phổi thùy dưới phải"


@pytest.fixture
def his_a(facility_a):
    facility_a.status = FacilityStatus.CONNECTED
    facility_a.approved_at = timezone.now()
    facility_a.save(update_fields=["status", "approved_at"])
    return api_key_create(facility=facility_a, name="HIS A", acting_user=None, redirect_uris=REDIRECT)


@pytest.fixture
def patient(facility_a):
    person = df.citizen(name="Nguyễn Văn Khám")
    df.visit(person.book, facility_a, dx="J18", note=NOTE, labs=1)
    return person


def _attempts(client, token, key, patient, doctor_client) -> dict[str, int]:
    """Every path by which the facility's doctor or software could read; the status of each."""
    book_id = str(patient.book.public_id)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_PURPOSE_OF_USE": "TREAT"}
    key_headers = {
        "HTTP_AUTHORIZATION": f"Api-Key {key.key}",
        "HTTP_X_PRACTITIONER_ID": "doctor_a",
        "HTTP_X_PURPOSE_OF_USE": "ETREAT",
        "HTTP_X_EMERGENCY_REASON": "unconscious",
    }
    _, challenge = pkce()
    out = {
        "book page": doctor_client.get(reverse("book-detail", kwargs={"public_id": book_id})),
        "labs page": doctor_client.get(reverse("book-labs", kwargs={"public_id": book_id})),
        "search": doctor_client.post(reverse("citizen-search"), {"q": patient.personal_id}),
        "emergency access": doctor_client.post(
            reverse("book-emergency", kwargs={"public_id": book_id}), {"reason": "unconscious"}
        ),
        "history API (token)": client.get(reverse("api-citizen-history", kwargs={"book": book_id}), **bearer),
        "FHIR $everything (token)": client.get(reverse("fhir-patient-everything", kwargs={"id": book_id}), **bearer),
        "lookup API (token)": client.post(
            reverse("api-citizen-lookup"),
            {"personal_id": patient.personal_id},
            content_type="application/json",
            **bearer,
        ),
        "history API (key + headers)": client.get(
            reverse("api-citizen-history", kwargs={"book": book_id}), **key_headers
        ),
        "new OAuth2 grant": doctor_client.post(reverse("oauth-authorize"), {**params(key, challenge), "allow": "1"}),
        "directory (key)": client.get(
            f"/fhir/Location/{key.row.facility.code}", HTTP_AUTHORIZATION=f"Api-Key {key.key}"
        ),
        "submission (key)": client.post(
            reverse("api-submissions"),
            b"<GIAMDINHHS/>",
            content_type="application/xml",
            HTTP_AUTHORIZATION=f"Api-Key {key.key}",
        ),
    }
    return {name: response.status_code for name, response in out.items()}


def _read(statuses: dict[str, int]) -> list[str]:
    """The paths that answered with success (a redirect back to the software is a granted code)."""
    return [name for name, status in statuses.items() if 200 <= status < 400]


def test_t8_doctors_and_keys_of_suspended_or_closed_facilities_read_nothing(
    proof, client, login, facility_a, doctor_a, his_a, patient
):
    row = proof.row(
        "T8",
        "a doctor of facility A (and its software, with a token the doctor granted earlier and with its key) "
        "after the province suspends, then closes A: book and labs pages, search, emergency access, history "
        "API, FHIR $everything, lookup, key + practitioner headers, a new OAuth2 grant, directory, submission",
    )
    doctor_client = login(doctor_a)
    verifier, challenge = pkce()
    granted = authorise(doctor_client, his_a, challenge)
    token = exchange(client, his_a, granted["code"], verifier).json()["access_token"]

    before = _attempts(client, token, his_a, patient, doctor_client)
    emergencies_before = EmergencyAccess.objects.filter(user=doctor_a).count()
    stopped = {}
    for status in (FacilityStatus.SUSPENDED, FacilityStatus.CLOSED):
        Facility.objects.filter(pk=facility_a.pk).update(status=status)
        stopped[status] = _attempts(client, token, his_a, patient, doctor_client)
    emergencies = EmergencyAccess.objects.filter(user=doctor_a).count() - emergencies_before
    Facility.objects.filter(pk=facility_a.pk).update(status=FacilityStatus.CONNECTED)
    after = client.get(
        reverse("api-citizen-history", kwargs={"book": str(patient.book.public_id)}),
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_PURPOSE_OF_USE="TREAT",
    )
    read_while_stopped = {s: _read(v) for s, v in stopped.items()}
    tried = sum(len(v) for v in stopped.values())
    row.set(
        times=tried,
        figure=f"{tried} reads while suspended or closed, {sum(len(v) for v in read_while_stopped.values())} "
        f"succeeded {read_while_stopped}; emergency accesses opened {emergencies}; "
        f"while connected: book page {before['book page']}, history {before['history API (token)']}, "
        f"again after reconnection {after.status_code}",
    )
    assert before["book page"] == 200 and before["history API (token)"] == 200
    assert read_while_stopped == {FacilityStatus.SUSPENDED: [], FacilityStatus.CLOSED: []}, stopped
    assert emergencies == 0
    assert after.status_code == 200 and "J18" in after.content.decode()


def test_t8_api_keys_expire_with_a_reminder_before_and_the_list_shows_the_date(
    proof, client, login, settings, facility_a, facility_admin_a, doctor_a, patient
):
    row = proof.row(
        "T8",
        "API keys: the lifetime of a new key (SSKDT_API_KEY_DAYS), a key past its expiry on the intake, "
        "directory, OAuth2 token and a token it issued; the reminder beat task twice; the credentials page",
    )
    facility_a.status = FacilityStatus.CONNECTED
    facility_a.approved_at = timezone.now()
    facility_a.save(update_fields=["status", "approved_at"])
    settings.SSKDT_API_KEY_DAYS = 90
    settings.SSKDT_API_KEY_REMINDER_DAYS = 14
    new = api_key_create(facility=facility_a, name="HIS A", acting_user=None, redirect_uris=REDIRECT)
    lifetime = round((new.row.expires_at - new.row.created_at).total_seconds() / 86400)

    # A token granted while the key lived, then the key expires.
    doctor_client = login(doctor_a)
    verifier, challenge = pkce()
    granted = authorise(doctor_client, new, challenge)
    token = exchange(client, new, granted["code"], verifier).json()["access_token"]
    FacilityApiKey.objects.filter(pk=new.row.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    key_auth = {"HTTP_AUTHORIZATION": f"Api-Key {new.key}"}
    expired = {
        "submission": client.post(
            reverse("api-submissions"), b"<GIAMDINHHS/>", content_type="application/xml", **key_auth
        ).status_code,
        "directory": client.get(f"/fhir/Location/{facility_a.code}", **key_auth).status_code,
        "history with its token": client.get(
            reverse("api-citizen-history", kwargs={"book": str(patient.book.public_id)}),
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_X_PURPOSE_OF_USE="TREAT",
        ).status_code,
        "OAuth2 grant": doctor_client.post(
            reverse("oauth-authorize"), {**params(new, pkce()[1]), "allow": "1"}
        ).status_code,
    }

    # Reminder: a key expiring in 10 days (inside the 14), one in 60 (outside), one revoked.
    soon = api_key_create(facility=facility_a, name="HIS B", acting_user=None)
    later = api_key_create(facility=facility_a, name="HIS C", acting_user=None)
    gone = api_key_create(facility=facility_a, name="HIS D", acting_user=None)
    now = timezone.now()
    FacilityApiKey.objects.filter(pk=soon.row.pk).update(expires_at=now + dt.timedelta(days=10))
    FacilityApiKey.objects.filter(pk__in=[later.row.pk, gone.row.pk]).update(expires_at=now + dt.timedelta(days=60))
    FacilityApiKey.objects.filter(pk=gone.row.pk).update(expires_at=now + dt.timedelta(days=5), revoked_at=now)
    mail.outbox.clear()
    first = api_key_expiry_remind_task.apply().get()
    sent_first = [(m.to, m.subject) for m in mail.outbox]
    second = api_keys_expiry_remind()
    page = login(facility_admin_a).get(reverse("facility-credentials", args=[facility_a.code])).content.decode()
    soon_date = timezone.localtime(now + dt.timedelta(days=10)).strftime("%d/%m/%Y")
    row.set(
        times=len(expired) + 3,
        figure=f"new key lifetime {lifetime} days (setting 90); expired key answers {expired}; reminders: first "
        f"run {first} key(s), {len(sent_first)} e-mail(s) to {[to for to, _ in sent_first]}, second run {second}; "
        f"page shows the expiry {soon_date}: {'yes' if soon_date in page else 'NO'}, notice: "
        f"{'yes' if 'api-key-expiry-notice' in page else 'NO'}",
    )
    assert lifetime == 90
    assert expired == {"submission": 401, "directory": 401, "history with its token": 401, "OAuth2 grant": 400}
    assert (first, second) == (1, 0)
    assert [to for to, _ in sent_first] == [[facility_admin_a.email]]
    assert "HIS B" in mail.outbox[0].body and soon_date in mail.outbox[0].body
    assert soon_date in page and page.count("api-key-expiry-notice") == 1


def test_existing_keys_get_an_expiry_never_sooner_than_the_reminder_window(facility_a, settings):
    """Migration 0009 on keys from before it: created_at + SSKDT_API_KEY_DAYS, but at least
    SSKDT_API_KEY_REMINDER_DAYS from the migration (no key stops unannounced)."""
    import importlib

    from django.apps import apps
    from django.db import connection

    settings.SSKDT_API_KEY_DAYS, settings.SSKDT_API_KEY_REMINDER_DAYS = 365, 30
    old = api_key_create(facility=facility_a, name="HIS 2024", acting_user=None).row
    recent = api_key_create(facility=facility_a, name="HIS 2026", acting_user=None).row
    now = timezone.now()
    FacilityApiKey.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=400))
    FacilityApiKey.objects.filter(pk=recent.pk).update(created_at=now - dt.timedelta(days=30))
    table = connection.ops.quote_name(FacilityApiKey._meta.db_table)
    with connection.cursor() as cur:  # the column as it was before the migration (rolled back with the test)
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own deferred checks, before the ALTER
        cur.execute(f"ALTER TABLE {table} ALTER COLUMN expires_at DROP NOT NULL")
        cur.execute(f"UPDATE {table} SET expires_at = NULL")  # noqa: S608 — the model's own table
    migration = importlib.import_module("facilities.migrations.0009_api_key_expiry")
    with connection.schema_editor(atomic=False) as editor:
        migration.expiry_for_existing_keys(apps, editor)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert abs((old.expires_at - (now + dt.timedelta(days=30))).total_seconds()) < 120
    assert abs((recent.expires_at - (now + dt.timedelta(days=335))).total_seconds()) < 120
