"""Generate the doctor-page benchmark database with COPY (not the ORM).

1,000,000 citizens with books and cards, 5,000,000 visits spread over them (about five each)
at facilities of every province, and one citizen ("the patient") with 500 visits at facility
01001, each with 3 lab results and 2 drugs. Run after `manage.py migrate` on an empty DB:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/sskdt_doctor_bench
    export DJANGO_SETTINGS_MODULE=config.test_settings
    python manage.py migrate && python manage.py load_codelists
    python bench/doctor_gen.py [--citizens 1000000 --visits 5000000]

Non-key indexes of the big tables are dropped during the load and rebuilt after it.
"""

import argparse
import datetime as dt
import os
import random
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from healthbook.names import search_name  # noqa: E402

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Quang", "Thu", "Bảo"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hằng",
    "Hoa",
    "Hùng",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Ngân",
    "Phong",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
]
ICD = ["I10", "E11", "J06", "K29", "M54", "J20", "A09", "N39", "E78", "I25"]
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _drop_indexes(table: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i LEFT JOIN pg_constraint c ON c.conname = i.indexname"
            " WHERE i.tablename = %s AND c.conname IS NULL",
            [table],
        )
        rows = cur.fetchall()
        for name, _ in rows:
            cur.execute(f'DROP INDEX "{name}"')
    # a partitioned table's index reads "ON ONLY" (the parent alone): made again for every partition
    return [d.replace(" ON ONLY ", " ON ") for _, d in rows]


def _copy(table: str, columns: list[str], rows) -> int:
    n = 0
    with (
        connection.cursor() as cur,
        cur.connection.cursor().copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"  # noqa: S608 — fixed names
        ) as copy,
    ):
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=5_000_000)
    args = parser.parse_args()
    rnd = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    t0 = time.time()
    with connection.cursor() as cur:
        cur.execute("SELECT id, code FROM provinces_province ORDER BY code")
        provinces = cur.fetchall()
        facility_rows = []
        for pid, pcode in provinces:
            for k in range(1, 4):
                facility_rows.append((f"{pcode}{k:03d}", pid))
    from facilities.models import Facility
    from healthbook.models import Submission

    for code, pid in facility_rows:
        Facility.objects.get_or_create(
            code=code, defaults={"name": f"Cơ sở {code}", "province_id": pid, "status": "connected"}
        )
    facilities = dict(Facility.objects.filter(code__in=[c for c, _ in facility_rows]).values_list("code", "id"))
    submission = Submission.objects.create(
        facility_id=facilities["01001"],
        received_at=now,
        kind="xml130",
        content_type="application/xml",
        size_bytes=1,
        sha256="b" * 64,
        request_hash="b" * 64,
        status="accepted",
        signature_verified=True,
    ).pk
    fac_ids = list(facilities.values())
    province_ids = [pid for pid, _ in provinces]

    saved = {t: _drop_indexes(t) for t in ("healthbook_citizen", "healthbook_encounter")}
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM healthbook_citizen")
        base = cur.fetchone()[0]

    def citizens():
        for i in range(args.citizens):
            name = f"{rnd.choice(SURNAMES)} {rnd.choice(MIDDLE)} {rnd.choice(GIVEN)}"
            birth = dt.date(1940, 1, 1) + dt.timedelta(days=rnd.randrange(30000))
            yield (
                base + i + 1,
                uuid.uuid4(),
                f"{9:03d}{i:09d}",
                f"9{i:09d}",
                "",
                name,
                search_name(name),
                birth,
                "day",
                birth.year,
                rnd.choice((1, 2)),
                "",
                "",
                rnd.choice(province_ids),
                "",
                "",
                "",
                now,
                now,
            )

    cols = [
        "id",
        "public_id",
        "personal_id",
        "social_insurance_number",
        "legacy_id_number",
        "full_name",
        "search_name",
        "birth_date",
        "birth_date_precision",
        "birth_year",
        "sex",
        "ethnicity_code",
        "nationality_code",
        "residence_province_id",
        "residence_commune_code",
        "address",
        "phone",
        "created_at",
        "updated_at",
    ]
    n = _copy("healthbook_citizen", cols, citizens())
    print(f"citizens: {n} in {time.time() - t0:.0f} s", flush=True)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('healthbook_citizen', 'id'), (SELECT max(id) FROM healthbook_citizen))"
        )
        cur.execute(
            "INSERT INTO healthbook_book (public_id, citizen_id, created_via, created_at)"
            " SELECT gen_random_uuid(), id, 'manual', now() FROM healthbook_citizen WHERE id > %s",
            [base],
        )
        cur.execute(
            "INSERT INTO healthbook_card (social_insurance_number, card_number, beneficiary_group, benefit_level,"
            " issuing_province_code, primary_care_facility_code, valid_from, valid_to, citizen_id, updated_at)"
            " SELECT social_insurance_number, 'GD401' || social_insurance_number, 'GD', 4, '01',"
            " (%s::text[])[1 + (id %% %s)], '2025-01-01', '2030-12-31', id, now() FROM healthbook_citizen"
            " WHERE id > %s",
            [list(facilities)[3:], len(facilities) - 3, base],
        )
        cur.execute("SELECT min(id), max(id) FROM healthbook_book WHERE citizen_id > %s", [base])
        book_lo, book_hi = cur.fetchone()
    print(f"books and cards in {time.time() - t0:.0f} s", flush=True)

    span = (now - EPOCH).total_seconds()

    def encounters():
        for i in range(args.visits):
            at = EPOCH + dt.timedelta(seconds=rnd.random() * span)
            yield (
                rnd.randint(book_lo + 1, book_hi),
                rnd.choice(fac_ids),
                submission,
                f"B{i:09d}",
                "xml130",
                1,
                "x" * 64,
                at,
                "01",
                at,
                at,
                rnd.choice(ICD),
                "{}",
                "{}",
                "{}",
                "",
                "",
                "",
                "",
                "{}",
                "{}",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "{}",
                "{}",
                now,
                now,
            )

    ecols = [
        "book_id",
        "facility_id",
        "submission_id",
        "key",
        "source",
        "version",
        "content_hash",
        "occurred_at",
        "visit_type",
        "admitted_at",
        "discharged_at",
        "main_diagnosis",
        "secondary_diagnoses",
        "traditional_diagnoses",
        "procedures",
        "diagnosis_text_admission",
        "diagnosis_text_discharge",
        "result",
        "discharge_type",
        "departments",
        "follow_up_dates",
        "referred_from",
        "referred_to",
        "record_number",
        "visit_object",
        "weight_kg",
        "treatment_days",
        "note",
        "codelist_versions",
        "patient_as_sent",
        "created_at",
        "updated_at",
    ]
    n = _copy("healthbook_encounter", ecols, encounters())
    print(f"visits: {n} in {time.time() - t0:.0f} s", flush=True)

    # The patient: the first generated book, 500 visits at 01001 with 3 labs and 2 drugs each.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT b.id, b.public_id, c.personal_id FROM healthbook_book b JOIN healthbook_citizen c"
            " ON c.id = b.citizen_id WHERE b.id = %s",
            [book_lo],
        )
        patient_book, patient_public, patient_pid = cur.fetchone()
    rows = []
    for i in range(500):
        at = now - dt.timedelta(days=i * 1.4 + 1)
        rows.append(
            (
                patient_book,
                facilities["01001"] if i % 3 else rnd.choice(fac_ids),
                submission,
                f"P{i:05d}",
                "xml130",
                1,
                "x" * 64,
                at,
                "01",
                at,
                at,
                rnd.choice(ICD),
                "{E78}",
                "{}",
                "{}",
                "",
                "",
                "",
                "",
                "{}",
                "{}",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "{}",
                "{}",
                now,
                now,
            )
        )
    _copy("healthbook_encounter", ecols, rows)
    for table, defs in saved.items():
        with connection.cursor() as cur:
            for d in defs:
                cur.execute(d)
            cur.execute(f"ANALYZE {table}")
    print(f"indexes rebuilt in {time.time() - t0:.0f} s", flush=True)
    with connection.cursor() as cur:
        cur.execute("SELECT id, occurred_at, facility_id FROM healthbook_encounter WHERE book_id = %s", [patient_book])
        visits = cur.fetchall()
    labs = [
        (
            patient_book,
            fid,
            submission,
            vid,
            at,
            f"{vid}-{k}",
            "GLU" if k == 0 else f"L{k}",
            "Glucose" if k == 0 else "",
            "",
            f"{5 + rnd.random() * 3:.1f}",
            f"{5 + rnd.random() * 3:.1f}",
            "mmol/L",
            "3.9-6.4",
            "",
            "",
            "",
            "",
        )
        for vid, at, fid in visits
        for k in range(3)
    ]
    _copy(
        "healthbook_lab_observation",
        [
            "book_id",
            "facility_id",
            "submission_id",
            "encounter_id",
            "occurred_at",
            "source_key",
            "indicator_code",
            "indicator_name",
            "service_code",
            "value",
            "value_number",
            "unit",
            "reference_range",
            "abnormal_flag",
            "description",
            "conclusion",
            "reader",
        ],
        labs,
    )
    meds = [
        (
            patient_book,
            fid,
            submission,
            vid,
            at,
            f"{vid}-{k}",
            f"40.{k}",
            f"Thuốc {k}",
            "",
            "",
            "",
            "",
            "",
            "",
            "30",
            "",
            "",
            "",
            "",
        )
        for vid, at, fid in visits
        for k in range(2)
    ]
    _copy(
        "healthbook_medication",
        [
            "book_id",
            "facility_id",
            "submission_id",
            "encounter_id",
            "occurred_at",
            "source_key",
            "code",
            "name",
            "unit",
            "strength",
            "route",
            "form",
            "dosage",
            "usage",
            "quantity",
            "registration_no",
            "prescriber",
            "prescription_code",
            "executed_at",
        ],
        [m[:18] + (None,) for m in meds],
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"done in {time.time() - t0:.0f} s; patient book {patient_public} personal id {patient_pid}", flush=True)


if __name__ == "__main__":
    main()
