"""The doctor's search (issue 18, point 4): an exact ID goes straight to the book; names are
ranked by relevance (the name as typed, then the people the doctor may open), and the page
says how many matched when it shows only the first ones."""

import pytest
from django.urls import reverse

from accesslog.models import AccessLogEntry
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db


def test_an_exact_personal_id_or_insurance_number_opens_the_book(login, doctor_a, patient_a):
    client = login(doctor_a)
    for q in (patient_a.personal_id, patient_a.social_insurance_number):
        response = client.post(reverse("citizen-search"), {"q": q})
        assert response.status_code == 302
        assert response["Location"] == reverse("book-detail", args=[patient_a.book.public_id])
        entry = AccessLogEntry.objects.order_by("-seq").first()
        assert (entry.event, entry.citizen_id, entry.details["by"]) == ("search", patient_a.pk, "identifier")


def test_an_exact_id_of_someone_without_care_relationship_goes_to_the_book_page_which_decides(
    login, doctor_a, stranger
):
    """The book page (not the search) refuses and offers emergency access: one rule, one place."""
    client = login(doctor_a)
    response = client.post(reverse("citizen-search"), {"q": stranger.personal_id})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 403


def test_an_unknown_id_stays_on_the_search_page(login, doctor_a, patient_a):
    response = login(doctor_a).post(reverse("citizen-search"), {"q": "001099999999"})
    assert response.status_code == 200
    assert "0 công dân" in response.content.decode()


def test_names_are_ranked_by_relevance_and_the_page_says_how_many_matched(
    login, doctor_a, patient_a, facility_a, django_assert_max_num_queries
):
    """22 "nguyen van benh …": alphabetically the one the doctor's facility saw came last and
    was cut off at 20; ranked, the exact name comes first, then the one the doctor may open."""
    for n in range(21):
        df.citizen(name=f"Nguyễn Văn Bệnh {chr(65 + n)}")
    seen = df.citizen(name="Nguyễn Văn Bệnh Zung")
    df.visit(seen.book, facility_a, dx="J06")
    client = login(doctor_a)
    with django_assert_max_num_queries(20):
        body = client.post(reverse("citizen-search"), {"q": "nguyen van benh"}).content.decode()
    rows = body.split('id="search-results"')[1].split("<tr>")[2:]
    assert len(rows) == 20
    assert "Nguyễn Văn Bệnh<" in rows[0].replace("</td>", "<")  # the name exactly as typed
    assert "Nguyễn Văn Bệnh Zung" in rows[1]  # then the one the doctor's facility has seen
    assert "Có quan hệ khám chữa bệnh" in rows[0] and "Có quan hệ khám chữa bệnh" in rows[1]
    assert "Có quan hệ khám chữa bệnh" not in "".join(rows[2:])
    assert "20 công dân phù hợp nhất trong 23 người tìm thấy" in body
    assert "chỉ hiển thị 20 người đầu tiên" in body


def test_a_short_list_is_shown_whole_without_the_more_message(login, doctor_a, patient_a, stranger):
    body = login(doctor_a).post(reverse("citizen-search"), {"q": "tran thi xa"}).content.decode()
    assert "Trần Thị Xa" in body and 'id="search-more"' not in body
    assert "Chưa có quan hệ khám chữa bệnh" in body
