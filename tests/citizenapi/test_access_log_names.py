"""What the citizen sees of who read the book (docs/citizen-api.md): the reader's full name, role
and facility -- unmasked, as Estonia's patient portal shows by name who viewed -- and for software
the facility and the doctor it read for; never a login name or the software's key. The citizen
API and the former citizen-app endpoint answer alike (one selector)."""

import pytest
from django.urls import reverse

from accounts.models import User
from tests import factories as f
from tests.healthbook.book.conftest import facility_headers

pytestmark = pytest.mark.django_db


def test_names_shown_login_names_and_keys_never(client, login, platform, patient_a, doctor_a, facility_a, key_a):
    doctor_a.full_name = "Lê Thị Hoa"
    doctor_a.save(update_fields=["full_name"])
    unnamed = f.doctor(facility_a, username="bs.khongten", approved_at=doctor_a.approved_at)
    User.objects.filter(pk=unnamed.pk).update(full_name="")
    book_url = reverse("book-detail", kwargs={"public_id": patient_a.book.public_id})
    assert login(doctor_a).get(book_url).status_code == 200
    assert login(unnamed).get(book_url).status_code == 200
    history = reverse("api-citizen-history", kwargs={"book": patient_a.book.public_id})
    assert client.get(history, **facility_headers(key_a, "doctor_a")).status_code == 200
    client.logout()

    response = client.get(reverse("citizenapi:access-log"), **platform.header(patient_a.personal_id))
    assert response.status_code == 200
    body = response.json()
    people = {p["who"]: p for p in body["people"]}
    assert "Lê Thị Hoa" in people and people["Lê Thị Hoa"]["facility"] == facility_a.name
    assert people["Lê Thị Hoa"]["text"].startswith("Lê Thị Hoa")
    assert "" in people  # the reader without a recorded name: no login name instead
    assert [m["who"] for m in body["machines"]] == ["Lê Thị Hoa"]
    text = response.content.decode()
    assert "bs.khongten" not in text and "doctor_a" not in text and key_a.split("_")[1] not in text
