"""load_codelists: the shipped seed loads as published versions, once."""

from datetime import date
from io import StringIO

from django.core.management import call_command

from codelists.models import CodeSystem, CodeSystemVersion, Concept
from codelists.validation import code_validate, codes_in_force
from tests.conftest import TRANSACTIONAL


def test_seed_loads_every_list_and_is_idempotent(db, django_assert_max_num_queries):
    out = StringIO()
    call_command("load_codelists", stdout=out)
    assert CodeSystem.objects.count() == 14  # 12 seed files + the communes (built from geo) + dvkt (from the map)
    assert CodeSystemVersion.objects.filter(status="published").count() == 14
    icd = CodeSystem.objects.get(key="icd10")
    assert Concept.objects.filter(version__system=icd).count() == 12433
    counts = Concept.objects.count()
    out = StringIO()
    call_command("load_codelists", stdout=out)
    assert "loaded" not in out.getvalue().replace("unchanged", "")
    assert Concept.objects.count() == counts


def test_seeded_icd10_validates_and_carries_annex_properties(db):
    call_command("load_codelists", "icd10", "province", stdout=StringIO())
    check = code_validate("icd10", "A34", date(2025, 1, 1))
    assert check.ok and check.properties["sex"] == "F"
    assert code_validate("icd10", "A34", date(2019, 1, 1)).reason == "not_in_force"
    assert len(codes_in_force("province", date(2025, 7, 1))) == 34


@TRANSACTIONAL
def test_load_codelists_runs_outside_a_test_transaction():
    """As `make run` calls it: in autocommit, each list loads in its own transaction (the commune
    list once broke `make run`: the atomic decorator had slid onto the helper above the loader,
    and the loader's SELECT … FOR UPDATE ran outside any transaction)."""
    call_command("load_codelists", "province", "commune", stdout=StringIO())
    assert CodeSystemVersion.objects.filter(status="published", system__key__in=["province", "commune"]).count() == 2
