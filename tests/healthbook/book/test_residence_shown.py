"""The book shows the citizen's province and commune of residence (issue 16), from the book's own
query (the commune's name is a subquery, not one more query)."""

import pytest

from healthbook.models import Citizen

from .test_pages import url

pytestmark = pytest.mark.django_db


def test_book_header_shows_commune_and_province(login, doctor_a, patient_a):
    Citizen.objects.filter(pk=patient_a.pk).update(residence_commune_code="00070")
    body = login(doctor_a).get(url("book-detail", patient_a)).content.decode()
    assert '<span id="residence-commune">Phường Hoàn Kiếm</span>' in body
    assert '<span id="residence-province">Thành phố Hà Nội</span>' in body


def test_unknown_commune_code_shows_no_commune(login, doctor_a, patient_a):
    Citizen.objects.filter(pk=patient_a.pk).update(residence_commune_code="26734")
    body = login(doctor_a).get(url("book-detail", patient_a)).content.decode()
    assert 'id="residence-commune"' not in body and 'id="residence-province"' in body
