"""Issue 17, point 3 (XML side): an XML 130 file's services (XML3, with who performed and who
ordered each one) and progress notes (XML5), sent through the real endpoint and processed, are
kept, shown on the visit page and come back in the history API and in `Patient/$everything`
(ChargeItem, DocumentReference "Progress note"; the visit's ICD-9-CM codes as Procedures)."""

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from healthbook.intake.mapping import visit_from_hoso
from healthbook.intake.xml130 import HoSoTables
from healthbook.models import ClinicalNote, Encounter, HealthBook, ServiceItem
from tests.healthbook.book.conftest import facility_headers

from .conftest import FACILITY, process, sign

pytestmark = pytest.mark.django_db

XML3_PERFORMER, XML3_ORDERER = "079123000111", "079123000222"


@pytest.fixture
def book(sender, signed, intake_codelists):
    sub = process(sender.post(signed))
    assert sub.error_count == 0, list(sub.problems.values_list("code", "table", "field"))
    return HealthBook.objects.get()


def test_xml3_keeps_who_performed_and_who_ordered():
    """NGUOI_THUC_HIEN is the performer (QĐ 4750 Bảng 3); MA_BAC_SI, who examined and ordered the
    service, is kept apart and never taken for the performer."""
    xml1 = {"MA_LK": "LK1", "MA_CSKCB": "01001", "NGAY_VAO": "202501020800"}
    rows = [
        {"STT": "1", "MA_DICH_VU": "02.1896", "MA_BAC_SI": XML3_ORDERER, "NGUOI_THUC_HIEN": XML3_PERFORMER},
        {"STT": "2", "MA_DICH_VU": "23.0075.1494", "MA_BAC_SI": XML3_ORDERER},
    ]
    visit = visit_from_hoso(
        HoSoTables(position=0, ma_lk="LK1", tables={"XML1": [xml1], "XML3": rows}), facility_code="01001"
    )
    assert [(s.performer, s.ordered_by) for s in visit.services] == [
        (XML3_PERFORMER, XML3_ORDERER),
        (None, XML3_ORDERER),
    ]


def test_history_api_returns_services_and_progress_notes(book, sender, doctor_a, client):
    url = reverse("api-citizen-history", kwargs={"book": book.public_id})
    data = client.get(url, **facility_headers(sender.key, "doctor_a")).json()
    assert len(data["visits"]) == Encounter.objects.filter(book=book).count() == 2
    for visit in data["visits"]:
        enc = Encounter.objects.get(book=book, key=visit["key"])
        services = list(ServiceItem.objects.filter(encounter=enc).order_by("id"))
        assert [s["code"] for s in visit["services"]] == [s.code for s in services]
        assert [s["performer"] for s in visit["services"]] == [s.performer for s in services]
        assert all(s["performer"] and s["ordered_by"] for s in visit["services"])
        notes = list(ClinicalNote.objects.filter(encounter=enc))
        assert [n["text"] for n in visit["progress_notes"]] == [n.text for n in notes] and notes
        assert visit["progress_notes"][0]["author"] == notes[0].author


def test_everything_returns_services_and_notes(book, sender, doctor_a, client, django_assert_max_num_queries):
    url = reverse("fhir-patient-everything", kwargs={"id": str(book.public_id)})
    headers = facility_headers(sender.key, "doctor_a")
    client.get(url, **headers)
    with django_assert_max_num_queries(40):
        response = client.get(url, **headers)
    parsed = Bundle.model_validate(response.json())
    by_type: dict[str, list] = {}
    for e in parsed.entry:
        by_type.setdefault(e.resource.__resource_type__, []).append(e.resource)
    assert len(by_type["ChargeItem"]) == ServiceItem.objects.filter(book=book).count() > 0
    item = by_type["ChargeItem"][0]
    functions = {p.function.text: p.actor.display for p in item.performer}
    s = ServiceItem.objects.get(pk=int(item.id.removeprefix("svc-")))
    assert functions == {"performer": s.performer, "ordering": s.ordered_by}
    assert item.context.reference.startswith("Encounter/enc-")
    notes = [d for d in by_type["DocumentReference"] if d.id.startswith("note-")]
    assert len(notes) == ClinicalNote.objects.filter(book=book).count() > 0
    note = ClinicalNote.objects.get(pk=int(notes[0].id.removeprefix("note-")))
    assert notes[0].type.coding[0].code == "11506-3"
    assert note.text in notes[0].content[0].attachment.data.decode("utf-8")  # fhir.resources decodes base64
    assert notes[0].author[0].display == note.author


def test_visit_procedure_codes_come_back_as_procedures(sender, pki, spec, today, intake_codelists, doctor_a, client):
    """XML1 MA_PTTT_QT (ICD-9-CM, ";"-separated) -> one Procedure each, tied to the visit."""
    import random
    from datetime import datetime, timedelta

    from healthbook.intake.demo.submissions import build_envelope, load_seed, make_citizen, make_visit

    rng = random.Random(11)
    icd, labs = load_seed()
    citizen = make_citizen(rng, 2)
    when = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=9)
    visit = make_visit(rng, citizen, FACILITY, 1, when, icd, labs, 2, 1)
    visit["XML1"][0]["MA_PTTT_QT"] = "45.13;45.23"
    sub = process(sender.post(sign(build_envelope(FACILITY, [visit], today, spec), pki["valid"])))
    assert sub.error_count == 0, list(sub.problems.values_list("code", "field"))
    # no ICD-9-CM list loaded here: the codes are reported (a warning), kept and served
    assert ("CODE_LIST_MISSING", "MA_PTTT_QT") in set(sub.problems.values_list("code", "field"))
    book = HealthBook.objects.get()
    url = reverse("fhir-patient-everything", kwargs={"id": str(book.public_id)})
    parsed = Bundle.model_validate(client.get(url, **facility_headers(sender.key, "doctor_a")).json())
    procedures = [e.resource for e in parsed.entry if e.resource.__resource_type__ == "Procedure"]
    assert [p.code.coding[0].code for p in procedures] == ["45.13", "45.23"]
    assert {p.encounter.reference for p in procedures} == {f"Encounter/enc-{Encounter.objects.get().pk}"}
