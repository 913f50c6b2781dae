"""Every emergency opening alerts the province: a red line on its dashboard (the daily e-mail is
in tests/healthbook/book/test_proof_duties.py, T7)."""

import pytest
from django.urls import reverse

from accesslog.services import emergency_access_review, emergency_access_start
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db


def test_the_province_dashboard_counts_openings_waiting_for_review(login, officer_hanoi, officer_hcm, doctor_a):
    person = df.citizen(name="Lê Văn Cấp Cứu")
    grants = [emergency_access_start(user=doctor_a, citizen=person, reason="life_threat") for _ in range(2)]
    client = login(officer_hanoi)
    body = client.get(reverse("dashboard-province", args=["01"])).content.decode()
    assert 'id="emergency-pending"' in body and "2" in body.split('id="emergency-pending"')[1][:200]
    assert reverse("emergency-review-list") in body
    emergency_access_review(grant=grants[0], acting_user=officer_hanoi, status="justified")
    emergency_access_review(grant=grants[1], acting_user=officer_hanoi, status="unjustified")
    assert 'id="emergency-pending"' not in client.get(reverse("dashboard-province", args=["01"])).content.decode()
    client.logout()
    other = login(officer_hcm).get(reverse("dashboard-province", args=["79"])).content.decode()
    assert 'id="emergency-pending"' not in other
