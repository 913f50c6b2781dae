"""Cached book fragments (header facts, timeline rows) are keyed by the book's content
version, which database triggers bump on every write to the tables they are read from: a new,
corrected or removed record shows on the next open, whoever wrote it."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from healthbook.book import header
from healthbook.book import selectors as history
from healthbook.models import Encounter, FollowUpAppointment, HealthBook, LabObservation
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db


def url(name, citizen):
    return reverse(name, kwargs={"public_id": citizen.book.public_id})


def version(citizen) -> int:
    return HealthBook.objects.values_list("content_version", flat=True).get(pk=citizen.book.pk)


def test_a_new_visit_shows_on_the_next_open(login, doctor_a, patient_a, facility_a):
    client = login(doctor_a)
    assert "J18" not in client.get(url("book-detail", patient_a)).content.decode()
    df.visit(patient_a.book, facility_a, dx="J18", when=timezone.now() - dt.timedelta(hours=1))
    body = client.get(url("book-detail", patient_a)).content.decode()
    assert "J18" in body.split('id="timeline"')[1]


def test_a_corrected_diagnosis_shows_on_every_cached_page(login, doctor_a, patient_a):
    client = login(doctor_a)
    for name in ("book-detail", "book-timeline"):
        assert "I10" in client.get(url(name, patient_a)).content.decode()
    Encounter.objects.filter(book=patient_a.book).update(main_diagnosis="E10", secondary_diagnoses=[])
    for name in ("book-detail", "book-timeline"):
        body = client.get(url(name, patient_a)).content.decode()
        assert "I10" not in body.split('id="timeline"')[1] and "E10" in body
        assert "E11" not in body.split('id="chronic"')[1].split("</dd>")[0]  # header facts too


def test_removed_records_leave_the_page(login, doctor_a, patient_a):
    client = login(doctor_a)
    assert "Tiền sử dị ứng penicilin" in client.get(url("book-detail", patient_a)).content.decode()
    LabObservation.objects.filter(book=patient_a.book).delete()
    Encounter.objects.filter(book=patient_a.book).update(secondary_diagnoses=[])
    assert "Tiền sử dị ứng penicilin" not in client.get(url("book-detail", patient_a)).content.decode()


def test_an_open_makes_fewer_queries_once_cached(login, doctor_a, patient_a, django_assert_max_num_queries):
    client = login(doctor_a)
    client.get(url("book-timeline", patient_a))
    with django_assert_max_num_queries(8):  # no timeline, header or facility-list query
        assert client.get(url("book-timeline", patient_a)).status_code == 200


def test_every_write_statement_moves_the_version_once(patient_a, facility_a):
    before = version(patient_a)
    df.follow_up(patient_a.book, facility_a, on=timezone.localdate())
    assert version(patient_a) == before + 1
    FollowUpAppointment.objects.filter(book=patient_a.book).update(description="x")
    assert version(patient_a) == before + 2
    FollowUpAppointment.objects.filter(book=patient_a.book).delete()
    assert version(patient_a) == before + 3
    FollowUpAppointment.objects.filter(book=patient_a.book).update(description="y")  # no row: no change
    assert version(patient_a) == before + 3


def test_other_books_keep_their_version(patient_a, facility_a):
    other = df.citizen(name="Trần Thị Khác")
    before = version(other)
    df.visit(patient_a.book, facility_a, labs=2)
    assert version(other) == before


def test_languages_are_cached_apart(login, doctor_a, patient_a):
    client = login(doctor_a)
    vi = client.get(url("book-detail", patient_a)).content.decode()
    doctor_a.language = "en"
    doctor_a.save(update_fields=["language"])
    en = client.get(url("book-detail", patient_a)).content.decode()
    assert ">Lần khám<" in vi.split('id="timeline"')[1] and ">Visit<" in en.split('id="timeline"')[1]


def test_the_cached_queries_read_only_triggered_tables():
    sql = header._HEADER_SQL + history._TIMELINE_HEAD + "".join(history._TIMELINE_BRANCHES.values())
    read = set(re.findall(r"\bhealthbook_\w+", sql)) | {"healthbook_immunization"}  # + the child schedule
    assert read <= set(history.CACHED_SOURCES)


def test_every_cached_source_has_its_triggers():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'healthbook_book_content_touch'"
            " AND NOT t.tgisinternal GROUP BY c.relname"
        )
        found = dict(cur.fetchall())
    assert found == {table: 3 for table in history.CACHED_SOURCES}
