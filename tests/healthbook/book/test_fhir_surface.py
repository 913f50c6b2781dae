"""Issue 17, point 3: `/fhir/metadata` lists every resource and operation served; an unknown FHIR
route answers with an OperationOutcome 404 (not the site's HTML page); a format we do not serve
(`application/fhir+xml`, `_format=xml`) answers 406 with an OperationOutcome instead of JSON."""

import pytest
from django.urls import reverse

from tests.healthbook.book.conftest import facility_headers

pytestmark = pytest.mark.django_db


def test_metadata_lists_every_resource_and_operation(client):
    body = client.get("/fhir/metadata").json()
    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    for served in ("CodeSystem", "ValueSet", "Organization", "Location", "Patient", "Condition", "Observation"):
        assert served in resources, served
    assert [op["name"] for op in resources["Patient"]["operation"]] == ["everything"]
    assert {"AllergyIntolerance", "Procedure", "DiagnosticReport", "DocumentReference"} <= set(resources)


def test_unknown_fhir_route_is_an_operation_outcome_404(client):
    response = client.get("/fhir/Claim/123")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response.json()["resourceType"] == "OperationOutcome"


def test_xml_is_not_acceptable(client, key_a, doctor_a, patient_a):
    meta = client.get("/fhir/metadata", HTTP_ACCEPT="application/fhir+xml")
    assert meta.status_code == 406 and meta.json()["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/metadata", {"_format": "xml"}).status_code == 406
    url = reverse("fhir-patient-everything", kwargs={"id": str(patient_a.book.public_id)})
    everything = client.get(url, HTTP_ACCEPT="application/fhir+xml", **facility_headers(key_a, "doctor_a"))
    assert everything.status_code == 406 and everything.json()["resourceType"] == "OperationOutcome"
    ok = client.get(url, HTTP_ACCEPT="application/fhir+json", **facility_headers(key_a, "doctor_a"))
    assert ok.status_code == 200
