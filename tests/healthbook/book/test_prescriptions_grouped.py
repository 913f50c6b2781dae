"""Issue 17, point 2: prescriptions grouped per prescription (a visit's drugs, or the FHIR
e-prescriptions sharing a national code), newest first, paged -- no longer a flat list cut at
200 rows; the page costs the same number of queries whatever the history."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from healthbook.models import Medication
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db


def _url(patient, **query):
    base = reverse("book-prescriptions", kwargs={"public_id": patient.book.public_id})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_prescriptions_are_grouped_and_paged(login, doctor_a, patient_a, facility_a, django_assert_max_num_queries):
    for i in range(24):
        df.visit(patient_a.book, facility_a, when=timezone.now() - dt.timedelta(days=40 + i), drugs=2)
    sub = df.submission(facility_a)
    for i in range(3):  # one national e-prescription of three drugs, not tied to a visit
        Medication.objects.create(
            book=patient_a.book,
            facility=facility_a,
            submission=sub,
            occurred_at=timezone.now() - dt.timedelta(days=1),
            source_key=f"MedicationRequest/rx-{i}",
            code=f"40.{i}",
            name=f"Thuốc đơn {i}",
            prescription_code="01001ABCDEFG-c",
            kind="request",
        )
    client = login(doctor_a)
    client.get(_url(patient_a))
    caches["book_fragments"].clear()
    # session, user, decision, log append (2 + SAVEPOINT/RELEASE), header, the page (2)
    with django_assert_max_num_queries(10):
        first = client.get(_url(patient_a)).content.decode()
    assert first.count('class="border rounded p-2 mb-2 prescription"') == 20
    assert first.index("01001ABCDEFG-c") < first.index("Amlodipin")  # newest first
    assert "Thuốc đơn 0" in first and "Thuốc đơn 2" in first and 'id="prescriptions-older"' in first
    second = client.get(_url(patient_a, page=2)).content.decode()
    # 1 e-prescription + 25 visits (the fixture's and 24 more) = 26 prescriptions: 20 + 6
    assert second.count('class="border rounded p-2 mb-2 prescription"') == 6
    assert 'id="prescriptions-older"' not in second
