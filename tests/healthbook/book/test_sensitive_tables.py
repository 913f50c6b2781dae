"""Issue 17, point 2: the HIV (XML6) and tuberculosis (XML15) tables are kept and shown only under
a stricter, documented rule -- on the visit page, to the doctors of the facility that sent the
visit, reading under a care relationship; an emergency access from another facility does not
show them, while the other tables kept as received (XML10) are shown to both."""

import pytest
from django.urls import reverse

from healthbook.models import Encounter, ReceivedTable

pytestmark = pytest.mark.django_db

MARKER = "KQ-HIV-THU-NGHIEM"


@pytest.fixture
def visit(patient_a):
    e = Encounter.objects.get(book=patient_a.book)
    common = {"book": e.book, "facility": e.facility, "submission": e.submission, "encounter": e}
    ReceivedTable.objects.create(**common, source_key=f"{e.key}/90", table="XML6", rows=[{"KET_QUA_XN": MARKER}])
    ReceivedTable.objects.create(**common, source_key=f"{e.key}/91", table="XML10", rows=[{"SO_SERI": "DS-1"}])
    return e


def _page(client, patient, visit):
    url = reverse("book-visit", kwargs={"public_id": patient.book.public_id, "visit_id": visit.pk})
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_sending_facility_sees_the_sensitive_table(login, doctor_a, patient_a, visit):
    body = _page(login(doctor_a), patient_a, visit)
    assert MARKER in body and "DS-1" in body


def test_an_emergency_reader_of_another_facility_does_not(client, login, doctor_b, patient_a, visit):
    login(doctor_b)
    url = reverse("book-emergency", kwargs={"public_id": patient_a.book.public_id})
    assert client.post(url, {"reason": "unconscious"}).status_code == 302
    body = _page(client, patient_a, visit)
    assert MARKER not in body and "DS-1" in body


def test_never_in_the_record_page(login, doctor_a, patient_a, visit):
    client = login(doctor_a)
    body = client.get(reverse("book-record", kwargs={"public_id": patient_a.book.public_id})).content.decode()
    assert MARKER not in body
