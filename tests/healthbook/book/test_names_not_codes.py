"""Issue 18, point 3 (names, not codes): on the visit page a drug or a service reads by its name;
its code follows only as a small, labelled secondary element ("mã …"), never as a second name,
and stands in for the name only when no name was sent."""

import re

import pytest
from django.urls import reverse

from healthbook.models import Encounter, Medication, ServiceItem

pytestmark = pytest.mark.django_db


def _cells(html: str, cls: str) -> list[str]:
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(rf'class="{cls}">(.*?)</(?:td|li)>', html, re.S)]


def test_drugs_and_services_read_by_name_with_the_code_secondary(login, doctor_a, patient_a):
    e = Encounter.objects.get(book=patient_a.book)
    common = {"book": e.book, "facility": e.facility, "submission": e.submission, "encounter": e}
    Medication.objects.create(**common, source_key="n1", code="40.9", name="")
    Medication.objects.create(**common, source_key="n2", code="Paracetamol", name="Paracetamol")
    ServiceItem.objects.create(**common, source_key="s1", code="02.1896", name="Siêu âm ổ bụng")
    ServiceItem.objects.create(**common, source_key="s2", code="VT.01", name="")
    url = reverse("book-visit", kwargs={"public_id": patient_a.book.public_id, "visit_id": e.pk})
    html = login(doctor_a).get(url).content.decode()
    drugs = _cells(html, "drug-name")
    assert 'Amlodipin 0 <small class="text-muted secondary-code">mã 40.0</small>' in drugs
    assert "40.9" in drugs and "Paracetamol" in drugs  # no name: the code alone; same: once
    services = [c.split(" ·")[0] for c in _cells(html, "service-name")]
    assert 'Siêu âm ổ bụng <small class="text-muted secondary-code">mã 02.1896</small>' in services
    assert "VT.01" in services
