"""Issue 17, point 3 (follow-up): the XML8 record summary and the XML10/XML12 papers, shown on the
visit page, come back in `Patient/$everything` (DocumentReference, the fields / rows as received in
a JSON attachment) and in the history API (`record_summaries`, `kept_as_received` per visit), a
FHIR resource kept as received with a visit comes back as received, the sensitive tables (XML6,
XML15) and the check-in table never do, and walking the pages loses nothing."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from healthbook.models import Encounter, ReceivedTable, RecordSummary
from tests.healthbook.book import factories as df

from .conftest import facility_headers

pytestmark = pytest.mark.django_db

VISITS = 5


@pytest.fixture
def papers(patient_a, facility_a):
    """Five visits, each with an XML8 summary and XML10/XML12/XML6/XML0 tables and a FHIR
    resource kept as received; one summary sent without a visit (a FHIR document)."""
    book = patient_a.book
    for i in range(VISITS - 1):
        df.visit(book, facility_a, when=timezone.now() - dt.timedelta(days=60 + i))
    for e in Encounter.objects.filter(book=book):
        common = {"book": book, "facility": e.facility, "submission": e.submission, "encounter": e}
        RecordSummary.objects.create(**common, source_key=f"{e.key}/8", number=f"TT-{e.pk}", fields={"TOM_TAT": e.key})
        for table, rows in (
            ("XML10", [{"SO_SERI": f"DS-{e.pk}"}]),
            ("XML12", [{"SO_BIEN_BAN": f"GD-{e.pk}"}]),
            ("XML6", [{"KET_QUA_XN": "HIV-MARKER"}]),
            ("XML0", [{"MA_LK": e.key}]),
            (
                "Flag",
                [
                    {
                        "resourceType": "Flag",
                        "id": f"flag-{e.pk}",
                        "status": "active",
                        "code": {"text": "x"},
                        "subject": {"reference": "Patient/p"},
                    }
                ],
            ),
        ):
            ReceivedTable.objects.create(**common, source_key=f"{e.key}/{table}", table=table, rows=rows)
    e = Encounter.objects.filter(book=book).first()
    RecordSummary.objects.create(
        book=book, facility=e.facility, submission=e.submission, source_key="doc-1", number="TT-LOOSE", fields={}
    )
    return book


def _walk(client, url, headers, key="next"):
    pages = []
    while url:
        response = client.get(url, **headers)
        assert response.status_code == 200
        pages.append(response.json())
        url = pages[-1].get(key)
    return pages


def test_everything_returns_summaries_and_papers_across_pages(client, papers, key_a, doctor_a):
    headers = facility_headers(key_a, "doctor_a")
    url = reverse("fhir-patient-everything", kwargs={"id": str(papers.public_id)}) + "?_count=2"
    resources, page = [], 1
    while True:
        bundle = Bundle.model_validate(client.get(f"{url}&page={page}", **headers).json())
        resources += [e.resource for e in bundle.entry]
        if not any(link.relation == "next" for link in bundle.link):
            break
        page += 1
    assert page == 3  # five visits, two a page
    docs = [r for r in resources if r.__resource_type__ == "DocumentReference"]
    summaries = [d for d in docs if d.id.startswith("summary-")]
    assert len(summaries) == RecordSummary.objects.filter(book=papers).count() == VISITS + 1
    assert summaries[0].type.coding[0].code == "34133-9"
    one = RecordSummary.objects.get(pk=int(summaries[0].id.removeprefix("summary-")))
    assert json.loads(summaries[0].content[0].attachment.data) == one.fields
    assert summaries[0].context.encounter[0].reference == f"Encounter/enc-{one.encounter_id}"
    kept = {d.type.text: d for d in docs if d.id.startswith("kept-")}
    assert {d.type.text for d in docs if d.id.startswith("kept-")} == {"XML10", "XML12"}
    assert sum(d.id.startswith("kept-") for d in docs) == 2 * VISITS
    assert kept["XML10"].type.coding[0].code == "pregnancy-leave"
    assert json.loads(kept["XML12"].content[0].attachment.data)[0]["SO_BIEN_BAN"].startswith("GD-")
    assert sum(r.__resource_type__ == "Flag" for r in resources) == VISITS
    body = json.dumps([r.model_dump(mode="json") for r in resources])
    assert "HIV-MARKER" not in body
    ids = [(r.__resource_type__, r.id) for r in resources if r.__resource_type__ != "Patient"]
    assert len(ids) == len(set(ids))  # nothing twice across the pages (the Patient heads each one)


def test_history_returns_summaries_and_papers(client, papers, key_a, doctor_a, django_assert_max_num_queries):
    headers = facility_headers(key_a, "doctor_a")
    url = reverse("api-citizen-history", kwargs={"book": papers.public_id})
    client.get(url, **headers)  # the token and the code lists read once
    with django_assert_max_num_queries(40):
        data = client.get(url, **headers).json()
    assert data["next_page"] is None
    assert len(data["visits"]) == VISITS
    for visit in data["visits"]:
        assert [r["fields"]["TOM_TAT"] for r in visit["record_summaries"]] == [visit["key"]]
        assert [t["type"] for t in visit["kept_as_received"]] == ["Flag", "XML10", "XML12"]
        flag, xml10, _xml12 = visit["kept_as_received"]
        assert flag["resource"]["resourceType"] == "Flag" and xml10["rows"][0]["SO_SERI"].startswith("DS-")
    assert [r["number"] for r in data["not_in_a_visit"]["record_summaries"]] == ["TT-LOOSE"]
    assert "HIV-MARKER" not in json.dumps(data)
