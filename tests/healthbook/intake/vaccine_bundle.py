"""A child's FHIR bundle with doses sent in CVX codes and programme product names, and lab
Observations sent in LOINC (issue 17, point 5). Generated data, no real person."""

from __future__ import annotations

import json
from datetime import date, timedelta

from healthbook.intake.fhir_bundle import SYSTEMS

CVX = "http://hl7.org/fhir/sid/cvx"
LOINC = "http://loinc.org"


def personal_id(birth: date) -> str:
    return f"001{2}{birth.year % 100:02d}000117"  # Hà Nội, a boy born in the 2000s


def _dose(rid: str, on: date, coding: list[dict], text: str | None = None) -> dict:
    return {
        "resourceType": "Immunization",
        "id": rid,
        "status": "completed",
        "vaccineCode": {"coding": coding, **({"text": text} if text else {})},
        "patient": {"reference": "Patient/c1"},
        "occurrenceDateTime": on.isoformat(),
    }


def _obs(rid: str, system: str, code: str, value: float, unit: str, when: str, category="laboratory") -> dict:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}
        ],
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/c1"},
        "encounter": {"reference": "Encounter/ec1"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit},
    }


def bundle(birth: date, when: str) -> bytes:
    """Four doses a 3-month-old has had, none in a national code: BCG as CVX 19, the hepatitis B
    birth dose as CVX "8" (no leading zero), the first pentavalent dose as the product "ComBE Five"
    in a local coding's display, the first oral polio dose as CVX 178 (bOPV); and two
    Observations: HbA1c as LOINC 4548-4 (mapped) and a heart rate as LOINC 8867-4 (not a lab
    indicator: kept as sent)."""
    resources = [
        {
            "resourceType": "Patient",
            "id": "c1",
            "identifier": [{"system": SYSTEMS["personal_id"], "value": personal_id(birth)}],
            "name": [{"text": "Phạm Minh Khang"}],
            "gender": "male",
            "birthDate": birth.isoformat(),
        },
        {
            "resourceType": "Encounter",
            "id": "ec1",
            "status": "finished",
            "class": {"code": "AMB"},
            "identifier": [{"system": SYSTEMS["ma_lk"], "value": "LK17-VAX"}],
            "subject": {"reference": "Patient/c1"},
            "period": {"start": when},
        },
        _dose("d-bcg", birth + timedelta(days=1), [{"system": CVX, "code": "19"}]),
        _dose("d-vgb", birth, [{"system": CVX, "code": "8"}]),
        _dose(
            "d-penta1",
            birth + timedelta(days=61),
            [{"system": "urn:oid:1.2.3.4.5", "code": "VX-0012", "display": "ComBE Five"}],
        ),
        _dose("d-opv1", birth + timedelta(days=61), [{"system": CVX, "code": "178"}], text="bOPV"),
        _obs("o-a1c", LOINC, "4548-4", 6.1, "%", when),
        _obs("o-hr", LOINC, "8867-4", 120, "/min", when, category="vital-signs"),
    ]
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    ).encode()
