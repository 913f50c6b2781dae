"""Encounters and their labs, medications, services and notes are partitioned by hash of the
facility (migration 0030, issue 21): the catalog says so, the intake's unique keys and the detail
rows' composite key to their encounter are enforced, and the migration keeps the rows of a
populated database (its SQL run on plain tables holding rows, as on a database that had them)."""

import importlib

import pytest
from django.db import IntegrityError, connection, transaction

from healthbook.models import ClinicalNote, Encounter, LabObservation, Medication, ServiceItem
from tests.factories import FacilityFactory
from tests.healthbook.book.factories import citizen, submission, visit

pytestmark = pytest.mark.django_db

migration = importlib.import_module("healthbook.migrations.0030_partitioned_clinical_tables")


def _partitions() -> dict[str, tuple[str, int]]:
    """{table: (strategy, number of partitions)} of the partitioned tables."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT p.partrelid::regclass::text, p.partstrat,"
            " (SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            "   WHERE i.inhparent = p.partrelid AND c.relkind = 'r')"
            " FROM pg_partitioned_table p"
        )
        return {t: (s, n) for t, s, n in cur.fetchall()}


def _key_columns(table: str) -> str:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_get_partkeydef(%s::regclass)",
            [table],
        )
        return cur.fetchone()[0]


def test_the_clinical_tables_are_partitioned_by_hash_of_the_facility():
    parts = _partitions()
    for table in migration.TABLES:
        assert parts[table] == ("h", migration.PARTITIONS)
        assert _key_columns(table) == "HASH (facility_id)"


def _history():
    fac = FacilityFactory()
    person = citizen()
    e = visit(person.book, fac, labs=2, drugs=2, note="Ổn định")
    ServiceItem.objects.create(
        book=person.book, facility=fac, submission=e.submission, encounter=e, source_key="1", code="02.1"
    )
    return fac, person, e


def _rows() -> dict[str, list]:
    return {
        "encounter": list(Encounter.objects.order_by("id").values_list("id", "facility_id", "key")),
        "lab": list(LabObservation.objects.order_by("id").values_list("id", "encounter_id", "value")),
        "drug": list(Medication.objects.order_by("id").values_list("id", "encounter_id", "name")),
        "service": list(ServiceItem.objects.order_by("id").values_list("id", "encounter_id", "code")),
        "note": list(ClinicalNote.objects.order_by("id").values_list("id", "encounter_id", "text")),
    }


def test_the_migration_keeps_the_rows_of_a_populated_database():
    fac, person, _e = _history()
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending key checks: a migration runs alone
        cur.execute(migration.REVERSE)  # plain tables, as before the migration, holding rows
    assert not set(migration.TABLES) & set(_partitions())
    before = _rows()
    assert all(before.values())
    with connection.cursor() as cur:
        cur.execute(migration.FORWARD)
        cur.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'healthbook_encounter'::regclass AND NOT tgisinternal"
        )
        triggers = {r[0] for r in cur.fetchall()}
    assert set(migration.TABLES) <= set(_partitions())
    assert _rows() == before
    # the book content-version triggers (migration 0013) came back, and ids continue their sequence
    assert triggers == {f"healthbook_encounter_touch_{op}" for op in ("ins", "upd", "del")}
    version = type(person.book).objects.get(pk=person.book.pk).content_version
    later = visit(person.book, fac, labs=1)
    assert later.pk > max(r[0] for r in before["encounter"])
    assert type(person.book).objects.get(pk=person.book.pk).content_version > version


def test_the_intake_keys_and_the_encounter_key_are_enforced():
    fac, person, e = _history()
    with pytest.raises(IntegrityError), transaction.atomic():
        Encounter.objects.create(
            book=person.book,
            facility=fac,
            submission=e.submission,
            key=e.key,
            source="xml130",
            content_hash="y" * 64,
            occurred_at=e.occurred_at,
        )
    lab = LabObservation.objects.filter(encounter=e).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        LabObservation.objects.create(
            book=person.book, facility=fac, submission=e.submission, source_key=lab.source_key
        )
    # a detail row of another facility than its encounter's breaks the composite key
    other = FacilityFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Medication.objects.create(
            book=person.book, facility=other, submission=submission(other), encounter=e, source_key="x"
        )
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
