"""XML 130 after 1 July 2025: no districts, the new commune codes (issue 16).

A post-reform file leaves MAHUYEN_CU_TRU blank and puts a commune of QĐ 19/2025 in MAXA_CU_TRU;
it is accepted and its citizen counts in the right province and commune. Pre-reform files (an
old district and commune code) are still accepted; unknown codes are warnings, never errors.
"""

import copy

import pytest

from geo.models import Province
from healthbook.intake.demo.submissions import build_envelope
from healthbook.models import Citizen, Encounter, ResidenceSource

from .conftest import FACILITY, process, sign

pytestmark = pytest.mark.django_db

HOAN_KIEM = "00070"  # Phường Hoàn Kiếm, Thành phố Hà Nội (01)


def _envelope(visits, spec, today, pki, **xml1):
    changed = copy.deepcopy(visits)
    for tables in changed:
        tables["XML1"][0].update(xml1)
    return sign(build_envelope(FACILITY, changed, today, spec), pki["valid"])


def _codes(sub):
    return sorted(sub.problems.values_list("code", "severity", "field"))


def test_post_reform_file_with_blank_district_is_accepted_and_places_the_citizen(
    sender, visits, spec, today, pki, intake_codelists
):
    body = _envelope(visits, spec, today, pki, MATINH_CU_TRU="01", MAHUYEN_CU_TRU="", MAXA_CU_TRU=HOAN_KIEM)
    sub = process(sender.post(body))
    assert sub.status in ("accepted", "accepted_with_warnings"), _codes(sub)
    assert sub.error_count == 0 and sub.encounters_created == 2
    assert not sub.problems.filter(field__in=("MAHUYEN_CU_TRU", "MAXA_CU_TRU", "MATINH_CU_TRU")).exists()
    citizen = Citizen.objects.get()
    assert citizen.residence_province.code == "01"
    assert citizen.residence_commune_code == HOAN_KIEM
    assert citizen.residence_source == ResidenceSource.FACILITY
    assert Encounter.objects.filter(book__citizen=citizen).count() == 2


def test_pre_reform_file_is_still_accepted_and_its_old_commune_is_a_warning(
    sender, visits, spec, today, pki, intake_codelists
):
    # Hà Giang (old province 02) is part of Tuyên Quang (08) since 1 July 2025.
    body = _envelope(visits, spec, today, pki, MATINH_CU_TRU="02", MAHUYEN_CU_TRU="024", MAXA_CU_TRU="00688")
    sub = process(sender.post(body))
    assert sub.status == "accepted_with_warnings", _codes(sub)
    assert sub.encounters_created == 2
    assert ("RESIDENCE_COMMUNE_UNKNOWN", "warning", "MAXA_CU_TRU") in _codes(sub)
    citizen = Citizen.objects.get()
    assert citizen.residence_province == Province.objects.get(code="08")
    assert citizen.residence_commune_code == ""


def test_unknown_province_and_commune_are_warnings_never_errors(sender, visits, spec, today, pki, intake_codelists):
    body = _envelope(visits, spec, today, pki, MATINH_CU_TRU="99", MAHUYEN_CU_TRU="", MAXA_CU_TRU="99999")
    sub = process(sender.post(body))
    assert sub.status == "accepted_with_warnings" and sub.error_count == 0, _codes(sub)
    assert {"RESIDENCE_PROVINCE_UNKNOWN", "RESIDENCE_COMMUNE_UNKNOWN"} <= {c for c, _s, _f in _codes(sub)}
    citizen = Citizen.objects.get()
    assert citizen.residence_province is None and citizen.residence_source == ResidenceSource.UNKNOWN


def test_commune_of_another_province_is_dropped_with_a_warning(sender, visits, spec, today, pki, intake_codelists):
    body = _envelope(visits, spec, today, pki, MATINH_CU_TRU="79", MAHUYEN_CU_TRU="", MAXA_CU_TRU=HOAN_KIEM)
    sub = process(sender.post(body))
    assert ("RESIDENCE_COMMUNE_OTHER_PROVINCE", "warning", "MAXA_CU_TRU") in _codes(sub)
    citizen = Citizen.objects.get()
    assert citizen.residence_province.code == "79" and citizen.residence_commune_code == ""


def test_card_data_wins_over_facility_data(sender, visits, spec, today, pki, intake_codelists):
    body = _envelope(visits, spec, today, pki, MATINH_CU_TRU="01", MAHUYEN_CU_TRU="", MAXA_CU_TRU=HOAN_KIEM)
    process(sender.post(body))
    citizen = Citizen.objects.get()
    hcm = Province.objects.get(code="79")
    Citizen.objects.filter(pk=citizen.pk).update(
        residence_province=hcm, residence_commune_code="", residence_source=ResidenceSource.CARD
    )
    again = _envelope(visits, spec, today, pki, MATINH_CU_TRU="48", MAHUYEN_CU_TRU="", MAXA_CU_TRU="")
    process(sender.post(again))
    citizen.refresh_from_db()
    assert citizen.residence_province == hcm and citizen.residence_source == ResidenceSource.CARD


def test_facility_data_fills_a_known_citizen_nobody_placed(sender, visits, spec, today, pki, intake_codelists):
    body = _envelope(visits, spec, today, pki, MATINH_CU_TRU="", MAHUYEN_CU_TRU="", MAXA_CU_TRU="")
    sub = process(sender.post(body))
    citizen = Citizen.objects.get()
    assert citizen.residence_province is None, _codes(sub)
    again = _envelope(visits, spec, today, pki, MATINH_CU_TRU="01", MAHUYEN_CU_TRU="", MAXA_CU_TRU=HOAN_KIEM)
    process(sender.post(again))
    citizen.refresh_from_db()
    assert citizen.residence_province.code == "01" and citizen.residence_commune_code == HOAN_KIEM
    assert citizen.residence_source == ResidenceSource.FACILITY


def test_blank_province_is_a_warning(sender, visits, spec, today, pki, intake_codelists):
    body = _envelope(visits, spec, today, pki, MATINH_CU_TRU="", MAHUYEN_CU_TRU="", MAXA_CU_TRU="")
    sub = process(sender.post(body))
    assert sub.error_count == 0 and sub.encounters_created == 2
    assert ("RESIDENCE_PROVINCE_MISSING", "warning", "MATINH_CU_TRU") in _codes(sub)


def test_backfill_places_existing_citizens_from_their_visits(sender, visits, spec, today, pki, intake_codelists):
    from io import StringIO

    from django.core.management import call_command

    body = _envelope(visits, spec, today, pki, MATINH_CU_TRU="02", MAHUYEN_CU_TRU="", MAXA_CU_TRU="")
    process(sender.post(body))
    citizen = Citizen.objects.get()
    Citizen.objects.filter(pk=citizen.pk).update(
        residence_province=None, residence_commune_code="", residence_source=ResidenceSource.UNKNOWN
    )
    out = StringIO()
    call_command("citizen_residence_backfill", stdout=out)
    citizen.refresh_from_db()
    assert citizen.residence_province.code == "08" and citizen.residence_source == ResidenceSource.FACILITY
    assert "1" in out.getvalue()
    out = StringIO()
    call_command("citizen_residence_backfill", stdout=out)
    assert out.getvalue().strip().endswith(": 0")


def _stored_the_old_way(citizens):
    """What a visit merged before issue 16 looks like: no residence kept, the citizen unplaced."""
    from django.db.models.expressions import RawSQL

    from healthbook.models import CheckIn

    for model in (Encounter, CheckIn):
        model.objects.filter(book__citizen__in=citizens).update(
            patient_as_sent=RawSQL("patient_as_sent - 'province' - 'commune'", [])
        )
    Citizen.objects.filter(pk__in=[c.pk for c in citizens]).update(
        residence_province=None, residence_commune_code="", residence_source=ResidenceSource.UNKNOWN
    )


def _backfill():
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("citizen_residence_backfill", stdout=out)
    return int(out.getvalue().strip().rsplit(":", 1)[1]), len(queries)


def test_backfill_reads_the_stored_submissions_of_visits_kept_without_residence(
    sender, visits, spec, today, pki, intake_codelists
):
    import random
    from datetime import datetime, timedelta

    from healthbook.intake.demo.submissions import load_seed, make_citizen, make_visit

    process(sender.post(_envelope(visits, spec, today, pki, MATINH_CU_TRU="01", MAXA_CU_TRU=HOAN_KIEM)))
    first = Citizen.objects.get()
    rng = random.Random(11)
    icd, labs = load_seed()
    base = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=9)
    other = [make_visit(rng, make_citizen(rng, 2), "01001", 1, base, icd, labs, 2, 1)]
    process(sender.post(_envelope(other, spec, today, pki, MATINH_CU_TRU="02", MAHUYEN_CU_TRU="", MAXA_CU_TRU="")))
    second = Citizen.objects.exclude(pk=first.pk).get()
    _stored_the_old_way([first, second])
    assert not Encounter.objects.filter(patient_as_sent__has_key="province").exists()

    placed, queries_for_two = _backfill()
    assert placed == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.residence_province.code, first.residence_commune_code) == ("01", HOAN_KIEM)
    assert second.residence_province.code == "08" and second.residence_commune_code == ""  # old 02 -> 08
    assert first.residence_source == second.residence_source == ResidenceSource.FACILITY
    assert _backfill()[0] == 0  # rerunnable: nothing left to change

    # A citizen the card file placed is left alone; one unplaced citizen costs what two did.
    _stored_the_old_way([first, second])
    hcm = Province.objects.get(code="79")
    Citizen.objects.filter(pk=second.pk).update(residence_province=hcm, residence_source=ResidenceSource.CARD)
    placed, queries_for_one = _backfill()
    assert placed == 1 and queries_for_one == queries_for_two
    second.refresh_from_db()
    assert second.residence_province == hcm and second.residence_source == ResidenceSource.CARD
    first.refresh_from_db()
    assert first.residence_commune_code == HOAN_KIEM
