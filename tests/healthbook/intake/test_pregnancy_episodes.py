"""Issue 17, point 2: pregnancy check-ups sent without an expected delivery date, in separate
submissions, stay one pregnancy (the key guessed for the first is remembered), and a due date is
derived from the gestational age when none is sent."""

import json
from datetime import date, datetime, timedelta

import pytest

from healthbook.intake.fhir_bundle import SYSTEMS
from healthbook.intake.jws import sign_detached
from healthbook.models import PregnancyCheckup

from .conftest import process

pytestmark = pytest.mark.django_db


def _checkup(enc_id: str, at: datetime, weeks: float | None, lmp: str | None = None) -> bytes:
    when = at.isoformat()
    subject = {"reference": "Patient/p1"}
    resources = [
        {
            "resourceType": "Patient",
            "id": "p1",
            "identifier": [{"system": SYSTEMS["personal_id"], "value": "001195000017"}],
            "name": [{"text": "Đỗ Thị Mang Thai"}],
            "gender": "female",
            "birthDate": "1995-02-03",
        },
        {
            "resourceType": "Encounter",
            "id": enc_id,
            "status": "finished",
            "class": {"code": "AMB"},
            "subject": subject,
            "period": {"start": when},
        },
        {
            "resourceType": "Observation",
            "id": f"{enc_id}-w",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "subject": subject,
            "encounter": {"reference": f"Encounter/{enc_id}"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": 58, "unit": "kg"},
        },
    ]
    if weeks is not None:
        resources.append(
            {
                "resourceType": "Observation",
                "id": f"{enc_id}-ga",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "11884-4"}]},
                "subject": subject,
                "encounter": {"reference": f"Encounter/{enc_id}"},
                "effectiveDateTime": when,
                "valueQuantity": {"value": weeks, "unit": "wk"},
            }
        )
    if lmp is not None:
        resources.append(
            {
                "resourceType": "Observation",
                "id": f"{enc_id}-lmp",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8665-2"}]},
                "subject": subject,
                "encounter": {"reference": f"Encounter/{enc_id}"},
                "effectiveDateTime": when,
                "valueDateTime": lmp,
            }
        )
    entries = [{"resource": r} for r in resources]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


def _send(sender, pki, body):
    sub = process(sender.post(body, "application/fhir+json", **{"X-Signature": sign_detached(body, pki["valid"].key)}))
    assert sub.error_count == 0, list(sub.problems.values_list("code", "table"))


def test_checkups_without_a_due_date_from_two_submissions_stay_one_pregnancy(sender, pki, intake_codelists):
    first = datetime(2025, 3, 3, 9).astimezone()
    _send(sender, pki, _checkup("e1", first, None))
    _send(sender, pki, _checkup("e2", first + timedelta(weeks=6), None))
    assert PregnancyCheckup.objects.count() == 2
    assert PregnancyCheckup.objects.values("pregnancy_key").distinct().count() == 1


def test_due_date_is_derived_from_the_gestational_age(sender, pki, intake_codelists):
    first = datetime(2025, 3, 3, 9).astimezone()
    _send(sender, pki, _checkup("e1", first, 20))
    _send(sender, pki, _checkup("e2", first + timedelta(weeks=9), 29))
    keys = set(PregnancyCheckup.objects.values_list("pregnancy_key", flat=True))
    assert keys == {(date(2025, 3, 3) + timedelta(weeks=20)).isoformat()}  # 40 - 20 weeks after the first


def test_due_date_is_derived_from_the_last_period(sender, pki, intake_codelists):
    _send(sender, pki, _checkup("e1", datetime(2025, 3, 3, 9).astimezone(), None, lmp="2024-12-01"))
    assert PregnancyCheckup.objects.get().pregnancy_key == (date(2024, 12, 1) + timedelta(days=280)).isoformat()
