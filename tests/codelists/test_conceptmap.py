"""Issue 17, point 4: the DVKT ↔ ICD-9-CM map of QĐ 4440, loaded by load_codelists from the
seed built from the official sheet, served as a FHIR ConceptMap and by `ConceptMap/$translate`
through the real endpoints (responses parsed with fhir.resources)."""

from io import StringIO

import pytest
from django.core.management import call_command
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.conceptmap import ConceptMap
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters

from codelists.models import CodeSystem, ConceptMapping

BASE = "https://terminology.sskdt.example.vn"
DVKT = f"{BASE}/CodeSystem/dvkt"
ICD9 = f"{BASE}/CodeSystem/icd9cm"
MAP = f"{BASE}/ConceptMap/dvkt-icd9cm"


@pytest.fixture
def dvkt_map(db):
    call_command("load_codelists", "icd9cm", "dvkt", stdout=StringIO())


def _matches(response) -> tuple[bool, list[tuple[str, str, str]]]:
    params = Parameters.model_validate_json(response.content).parameter
    result = next(p.valueBoolean for p in params if p.name == "result")
    out = []
    for p in params:
        if p.name == "match":
            parts = {q.name: q for q in p.part}
            out.append((parts["concept"].valueCoding.code, parts["equivalence"].valueCode, parts["source"].valueUri))
    return result, out


def test_the_whole_sheet_is_loaded_as_mappings(dvkt_map):
    system = CodeSystem.objects.get(key="dvkt")
    assert system.versions.get().concepts.count() == 8033  # 8,035 sheet rows, two codes listed twice
    assert ConceptMapping.objects.filter(target_system=ICD9).count() == 8034  # 10.0225.0403 has two targets
    out = StringIO()
    call_command("load_codelists", "dvkt", stdout=out)  # idempotent
    assert ConceptMapping.objects.count() == 8034


def test_translate_a_service_to_icd9cm(client, dvkt_map, django_assert_max_num_queries):
    client.get("/fhir/metadata")  # warm the process caches (version in force)
    with django_assert_max_num_queries(4):
        r = client.get("/fhir/ConceptMap/$translate", {"url": MAP, "system": DVKT, "code": "01.0115.0297"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/fhir+json")
    result, matches = _matches(r)
    assert result is True
    assert matches == [("88.73", "wider", f"{MAP}|QĐ 4440/QĐ-BYT (2020)")]


def test_a_service_with_two_codes_and_the_reverse_direction(client, dvkt_map):
    _, matches = _matches(client.get("/fhir/ConceptMap/$translate", {"system": DVKT, "code": "10.0225.0403"}))
    assert sorted(m[0] for m in matches) == ["35.14", "35.28"]
    r = client.get("/fhir/ConceptMap/$translate", {"system": ICD9, "code": "88.73", "reverse": "true"})
    result, back = _matches(r)
    assert result is True and ("01.0115.0297", "narrower", f"{MAP}|QĐ 4440/QĐ-BYT (2020)") in back


def test_translate_by_post_parameters(client, dvkt_map):
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "url", "valueUri": MAP},
            {"name": "system", "valueUri": DVKT},
            {"name": "code", "valueCode": "01.0116.0118"},
            {"name": "targetsystem", "valueUri": ICD9},
        ],
    }
    r = client.post("/fhir/ConceptMap/$translate", body, content_type="application/fhir+json")
    assert _matches(r)[1][0][0] == "96.56"


def test_an_unmapped_code_is_result_false(client, dvkt_map):
    r = client.get("/fhir/ConceptMap/$translate", {"system": DVKT, "code": "99.9999.9999"})
    assert r.status_code == 200 and _matches(r) == (False, [])


@pytest.mark.parametrize(
    "params, status",
    [
        ({"system": DVKT}, 400),  # no code
        ({"code": "01.0115.0297"}, 400),  # no system, no url
        ({"url": MAP, "system": ICD9, "code": "88.73"}, 400),  # wrong direction without reverse
        ({"url": MAP, "system": DVKT, "code": "01.0115.0297", "targetsystem": "http://loinc.org"}, 400),
        ({"url": MAP, "system": DVKT, "code": "01.0115.0297", "reverse": "maybe"}, 400),
        ({"url": MAP, "system": DVKT, "code": "01.0115.0297", "date": "27/10/2020"}, 400),
        ({"url": f"{BASE}/ConceptMap/nope", "system": DVKT, "code": "x"}, 404),
        ({"system": "http://loinc.org", "code": "1-8"}, 404),
        ({"url": MAP, "system": DVKT, "code": "01.0115.0297", "date": "2019-01-01"}, 404),  # before the list
    ],
)
def test_bad_input_is_an_operation_outcome(client, dvkt_map, params, status):
    r = client.get("/fhir/ConceptMap/$translate", params)
    assert r.status_code == status
    assert OperationOutcome.model_validate_json(r.content).issue[0].severity == "error"


def test_conceptmap_read_search_and_metadata(client, dvkt_map):
    cm = ConceptMap.model_validate_json(client.get("/fhir/ConceptMap/dvkt-icd9cm").content)
    assert cm.url == MAP and cm.status == "active"
    (group,) = cm.group
    assert (group.source, group.target, len(group.element)) == (DVKT, ICD9, 8033)
    bundle = Bundle.model_validate_json(client.get("/fhir/ConceptMap", {"url": MAP}).content)
    assert bundle.total == 1 and bundle.entry[0].resource.url == MAP
    assert client.get("/fhir/ConceptMap/nope").status_code == 404
    meta = CapabilityStatement.model_validate_json(client.get("/fhir/metadata").content)
    conceptmap = next(r for r in meta.rest[0].resource if r.type == "ConceptMap")
    assert [op.name for op in conceptmap.operation] == ["translate"]
