"""Machine reads: the facility lookup and history API, FHIR $everything (with the doctor's token),
and the citizen app's access log (personal ID in the body)."""

import pytest
from django.urls import reverse

from accesslog.models import AccessLogEntry, ActorKind, EmergencyAccess, Outcome
from tests.healthbook.book.conftest import facility_headers, last_entry, log_count

pytestmark = pytest.mark.django_db


def history_url(citizen):
    return reverse("api-citizen-history", kwargs={"book": citizen.book.public_id})


def citizen_log(client, citizen, key):
    return client.post(
        reverse("api-citizen-access-log"),
        {"personal_id": citizen.personal_id},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Citizen-App-Key {key}",
        HTTP_ACCEPT_LANGUAGE="vi",
    )


def test_history_for_a_named_practitioner_with_relationship(client, key_a, doctor_a, patient_a):
    response = client.get(history_url(patient_a), **facility_headers(key_a, "doctor_a"))
    assert response.status_code == 200
    body = response.json()
    visit = body["visits"][0]
    assert body["purpose"] == "TREAT" and visit["main_diagnosis"]["name"].startswith("Tăng huyết áp")
    assert len(visit["lab_results"]) == 3 and len(visit["medications"]) == 2
    entry = last_entry()
    assert (entry.actor_kind, entry.actor_username, entry.facility_code, entry.event, entry.outcome) == (
        ActorKind.MACHINE,
        "doctor_a",
        "01001",
        "api_read",
        Outcome.SUCCESS,
    )
    assert entry.client_ref and entry.citizen_id == patient_a.pk and entry.details["token"]


@pytest.mark.parametrize(
    "headers,status,code",
    [
        ({"practitioner": ""}, 403, "practitioner_token_required"),
        # the key and a doctor of another facility named in a header: no token, no read
        ({"practitioner": "doctor_b"}, 403, "practitioner_token_required"),
        ({"purpose": ""}, 400, "purpose_missing"),
        ({"purpose": "ETREAT"}, 403, "no_care_relationship"),  # no reason, no open emergency
    ],
)
def test_history_refusals_are_coded_and_logged(client, key_a, doctor_a, doctor_b, stranger, headers, status, code):
    before = log_count()
    response = client.get(
        history_url(stranger),
        **facility_headers(key_a, headers.get("practitioner", "doctor_a"), headers.get("purpose", "TREAT")),
    )
    assert response.status_code == status and response.json()["code"] == code
    assert log_count() == before + 1 and last_entry().outcome == Outcome.DENIED
    assert "Trần Thị Xa" not in response.content.decode()


def test_history_without_a_key_is_401(client, patient_a):
    assert client.get(history_url(patient_a)).status_code in (401, 403)


def test_emergency_read_through_the_api_opens_a_reviewed_grant(client, key_a, doctor_a, stranger):
    response = client.get(
        history_url(stranger), **facility_headers(key_a, "doctor_a", "ETREAT", **{"X-Emergency-Reason": "unconscious"})
    )
    assert response.status_code == 200 and response.json()["purpose"] == "ETREAT"
    grant = EmergencyAccess.objects.get(citizen=stranger)
    assert grant.via_api and grant.review_status == "pending" and grant.facility.code == "01001"
    events = list(AccessLogEntry.objects.filter(citizen_id=stranger.pk).order_by("seq").values_list("event", "purpose"))
    assert events == [("emergency_start", "ETREAT"), ("api_read", "ETREAT")]


def test_unknown_citizen_answers_as_a_book_without_relationship(client, key_a, doctor_a, code_lists):
    """No oracle of which ids exist (issue 15, attack 15): the same 403 as a book the doctor may
    not read; only breaking the glass with a reason learns that the id names no book."""
    import uuid

    url = reverse("api-citizen-history", kwargs={"book": uuid.uuid4()})
    response = client.get(url, **facility_headers(key_a, "doctor_a"))
    assert response.status_code == 403 and response.json()["code"] == "no_care_relationship"
    emergency = client.get(
        url, **facility_headers(key_a, "doctor_a", "ETREAT", **{"X-Emergency-Reason": "unconscious"})
    )
    assert emergency.status_code == 404 and emergency.json()["code"] == "not_found"


def test_lookup_by_personal_id_in_the_body_gives_the_book_and_logs_a_search(client, key_a, doctor_a, patient_a):
    url = reverse("api-citizen-lookup")
    before = log_count()
    found = client.post(
        url,
        {"personal_id": patient_a.personal_id},
        content_type="application/json",
        **facility_headers(key_a, "doctor_a"),
    )
    assert found.status_code == 200 and found.json()["book"] == str(patient_a.book.public_id)
    assert found.json()["personal_id_masked"].endswith(patient_a.personal_id[-3:])
    assert patient_a.personal_id not in found.content.decode()
    entry = last_entry()
    assert (entry.event, entry.outcome, entry.citizen_id, entry.actor_username) == (
        "search",
        Outcome.SUCCESS,
        patient_a.pk,
        "doctor_a",
    )
    missing = client.post(
        url, {"personal_id": "001099999999"}, content_type="application/json", **facility_headers(key_a, "doctor_a")
    )
    keyless = client.post(url, {"personal_id": patient_a.personal_id}, content_type="application/json")
    key_only = client.post(
        url,
        {"personal_id": patient_a.personal_id},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key_a}",
    )
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert keyless.status_code in (401, 403)
    assert key_only.status_code == 403 and key_only.json()["code"] == "practitioner_token_required"
    assert log_count() == before + 3  # found, not found, key only (keyless is refused before any check)


def test_personal_ids_in_the_path_are_not_routes(client, key_a, doctor_a, patient_a):
    headers = facility_headers(key_a, "doctor_a")
    assert client.get(f"/api/v1/citizens/{patient_a.personal_id}/history/", **headers).status_code == 404
    everything = client.get(f"/fhir/Patient/{patient_a.personal_id}/$everything", **headers)
    # not a book id: answered as any id the doctor may not read (no oracle of which ids exist)
    assert everything.status_code == 403 and "Nguyễn Văn Bệnh" not in everything.content.decode()


def test_fhir_everything_is_a_paged_searchset_that_fhir_resources_parses(
    client, key_a, doctor_a, patient_a, facility_a
):
    from fhir.resources.R4B.bundle import Bundle

    from tests.healthbook.book import factories as df

    for _ in range(3):
        df.visit(patient_a.book, facility_a, labs=1)
    url = reverse("fhir-patient-everything", kwargs={"id": str(patient_a.book.public_id)})
    first = client.get(url, {"_count": 2}, **facility_headers(key_a, "doctor_a"))
    assert first.status_code == 200 and first["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(first.json())
    assert bundle.type == "searchset"
    kinds = [e.resource.__resource_type__ for e in bundle.entry]
    assert kinds[0] == "Patient" and kinds.count("Encounter") == 2 and "Observation" in kinds
    assert [link.relation for link in bundle.link] == ["self", "next"]
    last = client.get(url, {"_count": 2, "page": 2}, **facility_headers(key_a, "doctor_a"))
    bundle2 = Bundle.model_validate(last.json())
    assert [e.resource.__resource_type__ for e in bundle2.entry].count("Encounter") == 2
    assert "next" not in [link.relation for link in bundle2.link]


def test_fhir_everything_refusal_is_an_operation_outcome(client, key_b, doctor_b, patient_a):
    url = reverse("fhir-patient-everything", kwargs={"id": str(patient_a.book.public_id)})
    response = client.get(url, **facility_headers(key_b, "doctor_b"))
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"


def test_citizen_app_reads_the_log_in_plain_words_people_and_software_apart(
    client, login, key_a, doctor_a, patient_a, citizen_app_key
):
    login(doctor_a).get(reverse("book-detail", kwargs={"public_id": patient_a.book.public_id}))
    client.logout()
    client.get(history_url(patient_a), **facility_headers(key_a, "doctor_a"))
    body = citizen_log(client, patient_a, citizen_app_key).json()
    assert len(body["people"]) == 1 and len(body["machines"]) == 1
    person = body["people"][0]
    assert person["text"].startswith(f"{doctor_a.full_name} tại Bệnh viện Thử nghiệm A đã xem sổ sức khỏe lúc")
    assert body["machines"][0]["text"].startswith("Phần mềm của Bệnh viện Thử nghiệm A đã đọc")


def test_citizen_app_key_is_its_own_credential(client, key_a, patient_a, citizen_app_key):
    url = reverse("api-citizen-access-log")
    body = {"personal_id": patient_a.personal_id}
    assert client.post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key_a}"
    ).status_code in (
        401,
        403,
    )
    forged = "Citizen-App-Key sskdtc_000000000000_" + "x" * 43
    assert client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=forged).status_code == 401
    history = history_url(patient_a)
    assert client.get(history, HTTP_AUTHORIZATION=f"Citizen-App-Key {citizen_app_key}").status_code in (401, 403)
    assert citizen_log(client, patient_a, citizen_app_key).status_code == 200
