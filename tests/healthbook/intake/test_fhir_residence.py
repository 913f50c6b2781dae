"""FHIR intake reads the residence from Patient.address, as XML 130 reads MATINH_CU_TRU /
MAXA_CU_TRU: the codes of the units in force since 1 July 2025 (the two address extensions, or
`state` / `city` holding a code), or their names written out, matched through geo. A FHIR item
not tied to an Encounter is no longer reported as a blank XML1 MATINH_CU_TRU."""

import json

import pytest

from geo.models import Commune
from healthbook.intake.fhir_bundle import SYSTEMS, read_bundle
from healthbook.intake.jws import sign_detached
from healthbook.models import Citizen
from healthbook.models.citizens import ResidenceSource

from .conftest import FACILITY, process

HOAN_KIEM = "00070"  # Phường Hoàn Kiếm, Thành phố Hà Nội (geo/data/SOURCE.md)


def bundle(address=None, pid="001080000001"):
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": SYSTEMS["personal_id"], "value": pid}],
        "name": [{"text": "Trần Thị Thử"}],
        "gender": "female",
        "birthDate": "1990-05-04",
    }
    if address is not None:
        patient["address"] = address
    imm = {
        "resourceType": "Immunization",
        "id": "imm1",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "https://sskdt.example.vn/fhir/CodeSystem/vaccine", "code": "TCMR-BCG"}]},
        "patient": {"reference": "Patient/p1"},
        "occurrenceDateTime": "2025-09-01T09:00:00+07:00",
    }
    entries = [{"resource": r} for r in (patient, imm)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


EXT = [
    {"url": SYSTEMS["address_province"], "valueCode": "01"},
    {"url": SYSTEMS["address_commune"], "valueCoding": {"code": HOAN_KIEM}},
]


def test_the_reader_takes_the_home_address_codes_or_names():
    home = {"use": "home", "line": ["Số 5 Hàng Bài"], "city": "Phường Hoàn Kiếm", "state": "Thành phố Hà Nội"}
    old = {"use": "old", "state": "79"}
    p = read_bundle(bundle([old, {"use": "work", "state": "48"}, home]), facility_code=FACILITY).patient
    assert (p.province_code, p.province_name, p.commune_name) == (None, "Thành phố Hà Nội", "Phường Hoàn Kiếm")
    assert p.address == "Số 5 Hàng Bài, Phường Hoàn Kiếm, Thành phố Hà Nội"
    p = read_bundle(bundle([{"extension": EXT, "state": "Hà Nội"}]), facility_code=FACILITY).patient
    assert (p.province_code, p.commune_code, p.province_name) == ("01", HOAN_KIEM, None)
    p = read_bundle(bundle([{"state": "01", "city": HOAN_KIEM, "district": "Quận Hoàn Kiếm"}]), facility_code=FACILITY)
    assert (p.patient.province_code, p.patient.commune_code) == ("01", HOAN_KIEM)


def _send(sender, pki, body):
    jws = sign_detached(body, pki["valid"].key, kid=FACILITY)
    sub = process(sender.post(body, "application/fhir+json", **{"X-Signature": jws}))
    assert sub.error_count == 0, list(sub.problems.values_list("code", "table", "field"))
    return sub, Citizen.objects.order_by("-id").first()


def _residence_codes(sub):
    return [c for c in sub.problems.values_list("code", flat=True) if c.startswith("RESIDENCE_")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "address",
    [
        [{"extension": EXT}],
        [{"state": "01", "city": HOAN_KIEM}],
        [{"use": "home", "city": "phuong hoan kiem", "state": "Hà Nội"}],  # names, no diacritics or kind word
        [{"use": "home", "city": "Phường Hoàn Kiếm", "state": "TP. Hà Nội"}],
    ],
    ids=["extensions", "codes-in-state-city", "names-plain", "names-with-kind"],
)
def test_a_fhir_submission_with_an_address_places_the_citizen(sender, pki, intake_codelists, address):
    assert Commune.objects.get(code=HOAN_KIEM).name_vi == "Phường Hoàn Kiếm"
    sub, citizen = _send(sender, pki, bundle(address))
    assert _residence_codes(sub) == []
    assert citizen.residence_province.code == "01" and citizen.residence_commune_code == HOAN_KIEM
    assert citizen.residence_source == ResidenceSource.FACILITY


@pytest.mark.django_db
def test_without_an_address_nothing_is_reported_as_a_blank_xml1_field(sender, pki, intake_codelists):
    sub, citizen = _send(sender, pki, bundle())
    assert not sub.problems.filter(table="XML1").exists()
    assert citizen.residence_province is None and citizen.residence_source == ResidenceSource.UNKNOWN


@pytest.mark.django_db
def test_names_that_match_no_unit_are_warnings(sender, pki, intake_codelists):
    sub, citizen = _send(sender, pki, bundle([{"state": "Hà Nội", "city": "Phường Không Có"}]))
    assert _residence_codes(sub) == ["RESIDENCE_COMMUNE_UNKNOWN"]
    assert citizen.residence_province.code == "01" and citizen.residence_commune_code == ""
    sub, citizen = _send(sender, pki, bundle([{"state": "Tỉnh Không Có"}], pid="001080000002"))
    assert _residence_codes(sub) == ["RESIDENCE_PROVINCE_UNKNOWN"] and citizen.residence_province is None
