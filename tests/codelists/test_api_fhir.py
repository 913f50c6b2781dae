"""DRF endpoints and FHIR R4 terminology operations; responses parsed with fhir.resources."""

from datetime import date

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem as FhirCodeSystem
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.valueset import ValueSet

from codelists import services

URL = "https://terminology.test/CodeSystem/icd10"


def _params(response) -> dict:
    return {p.name: p for p in Parameters.model_validate_json(response.content).parameter}


def test_codesystem_search_lists_every_system_without_login(client, icd_v2, labs):
    r = client.get("/fhir/CodeSystem")
    assert r.status_code == 200
    bundle = Bundle.model_validate_json(r.content)
    assert bundle.type == "searchset" and bundle.total == 2
    urls = {e.resource.url for e in bundle.entry}
    assert URL in urls


def test_codesystem_read(client, icd_v2):
    r = client.get("/fhir/CodeSystem/icd10")
    cs = FhirCodeSystem.model_validate_json(r.content)
    assert (cs.url, cs.version, cs.count, cs.status) == (URL, "v2", 4, "active")


def test_lookup_unknown_code_is_an_operation_outcome(client, icd_v2):
    r = client.get("/fhir/CodeSystem/$lookup", {"system": URL, "code": "NOPE"})
    assert r.status_code == 404
    assert OperationOutcome.model_validate_json(r.content).issue[0].code == "not-found"


def test_validate_code_uses_the_date(client, icd_v2):
    ok = _params(client.get("/fhir/CodeSystem/$validate-code", {"url": URL, "code": "Z99.9", "date": "2022-01-01"}))
    assert ok["result"].valueBoolean is True and ok["version"].valueString == "v1"
    gone = _params(client.get("/fhir/CodeSystem/$validate-code", {"url": URL, "code": "Z99.9", "date": "2026-01-01"}))
    assert gone["result"].valueBoolean is False and gone["reason"].valueCode == "retired"


def test_validate_code_by_post_parameters(client, icd_v2):
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "url", "valueUri": URL},
            {"name": "code", "valueCode": "J18.9"},
            {"name": "date", "valueDate": "2026-02-01"},
        ],
    }
    r = client.post("/fhir/CodeSystem/$validate-code", body, content_type="application/fhir+json")
    assert _params(r)["display"].valueString == "Viêm phổi, không đặc hiệu"


def test_validate_code_bad_date_is_400(client, icd_v2):
    r = client.get("/fhir/CodeSystem/$validate-code", {"url": URL, "code": "A00", "date": "31/12/2025"})
    assert r.status_code == 400
    OperationOutcome.model_validate_json(r.content)


def test_expand_is_paged(client, icd_v2):
    r = client.get("/fhir/ValueSet/$expand", {"url": URL + "?vs", "version": "v2", "offset": 1, "count": 2})
    vs = ValueSet.model_validate_json(r.content)
    assert vs.expansion.total == 4 and vs.expansion.offset == 1
    assert [c.code for c in vs.expansion.contains] == ["J18.9", "U07.1"]
    assert vs.expansion.contains[1].inactive is True


def test_drafts_are_invisible_to_the_public_but_visible_to_ministry(client, login, labs, ministry_editor):
    services.draft_start(system=labs.system, acting_user=ministry_editor, label="nháp", effective_from=date(2026, 1, 1))
    url = "https://terminology.test/CodeSystem/lab-indicator"
    assert client.get("/fhir/ValueSet/$expand", {"url": url, "version": "nháp"}).status_code == 404
    assert client.get("/api/v1/codelists/systems/lab-indicator/versions/").json()["count"] == 1
    c = login(ministry_editor)
    assert c.get("/fhir/ValueSet/$expand", {"url": url, "version": "nháp"}).status_code == 200
    assert c.get("/api/v1/codelists/systems/lab-indicator/versions/").json()["count"] == 2


def test_doctor_cannot_read_a_draft_through_the_api(client, login, labs, ministry_editor, doctor_a):
    draft = services.draft_start(system=labs.system, acting_user=ministry_editor, label="nháp")
    c = login(doctor_a)
    r = c.get(f"/api/v1/codelists/systems/lab-indicator/versions/{draft.pk}/concepts/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_api_concept_search_without_diacritics(client, icd_v2, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        r = client.get(f"/api/v1/codelists/systems/icd10/versions/{icd_v2.pk}/concepts/", {"q": "viem phoi"})
    assert r.status_code == 200
    assert [c["code"] for c in r.json()["results"]] == ["J18.9"]


def test_api_validate(client, icd_v2):
    r = client.get("/api/v1/codelists/systems/icd10/validate/", {"code": "U07.1", "date": "2026-01-01"})
    assert r.json()["reason"] == "retired"
    r = client.get("/api/v1/codelists/systems/icd10/validate/", {"code": "A00", "date": "not a date"})
    assert r.status_code == 400 and r.json()["code"] == "invalid"


def test_api_unknown_system_is_404(client, db):
    assert client.get("/api/v1/codelists/systems/nope/").json()["code"] == "not_found"
