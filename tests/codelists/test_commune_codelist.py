"""The commune code list (issue 16): built by load_codelists from the geography tables (one source
of truth), served by the FHIR terminology operations like every other list."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem as FhirCodeSystem
from fhir.resources.R4B.parameters import Parameters

from codelists.models import CodeSystem, Concept
from codelists.validation import code_validate
from geo.models import Commune

pytestmark = pytest.mark.django_db

URL = "https://terminology.sskdt.example.vn/CodeSystem/commune"


def _params(response) -> dict:
    return {p.name: p for p in Parameters.model_validate_json(response.content).parameter}


@pytest.fixture
def communes_loaded():
    call_command("load_codelists", "commune", stdout=StringIO())


def test_load_codelists_builds_the_commune_list_from_geo(communes_loaded):
    system = CodeSystem.objects.get(key="commune")
    concepts = Concept.objects.filter(version__system=system)
    assert concepts.count() == Commune.objects.count() == 3321
    hoan_kiem = concepts.get(code="00070")
    assert hoan_kiem.display_vi == "Phường Hoàn Kiếm"
    assert hoan_kiem.properties == {"kind": "phuong", "province": "01", "valid_from": "2025-07-01"}
    assert code_validate("commune", "00070", date(2026, 11, 1)).ok


def test_loading_again_changes_nothing(communes_loaded):
    out = StringIO()
    call_command("load_codelists", "commune", stdout=out)
    assert "unchanged" in out.getvalue()
    assert Concept.objects.filter(version__system__key="commune").count() == 3321


def test_fhir_codesystem_search_lists_the_communes(client, communes_loaded):
    bundle = Bundle.model_validate_json(client.get("/fhir/CodeSystem").content)
    assert URL in {e.resource.url for e in bundle.entry}
    read = FhirCodeSystem.model_validate_json(client.get("/fhir/CodeSystem/commune").content)
    assert (read.url, read.count) == (URL, 3321)


def test_validate_code_is_true_for_a_real_commune_and_false_for_a_made_up_one(client, communes_loaded):
    real = _params(client.get("/fhir/CodeSystem/$validate-code", {"url": URL, "code": "26743"}))
    assert real["result"].valueBoolean is True
    assert real["display"].valueString == "Phường Bến Thành"
    made_up = _params(client.get("/fhir/CodeSystem/$validate-code", {"url": URL, "code": "99999"}))
    assert made_up["result"].valueBoolean is False
    old = _params(client.get("/fhir/CodeSystem/$validate-code", {"url": URL, "code": "26734"}))
    assert old["result"].valueBoolean is False  # an old (pre-reform) commune code


def test_lookup_gives_name_and_province(client, communes_loaded):
    r = client.get("/fhir/CodeSystem/$lookup", {"system": URL, "code": "00070"})
    assert r.status_code == 200
    params = _params(r)
    assert params["display"].valueString == "Phường Hoàn Kiếm"
