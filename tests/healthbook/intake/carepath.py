"""Helpers of the care-path tests (issue 15: check-ins, facts from facility data, identity holds):
signed XML 130 check-ins (a HOSO holding only XML0) and FHIR check-in bundles for citizens the
tests create, and the doctor's open of a book."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import RequestFactory

from healthbook.intake.demo.submissions import build_envelope
from healthbook.intake.xml130 import load_spec

from .conftest import sign

VN = ZoneInfo("Asia/Ho_Chi_Minh")
_n = itertools.count(1)


def ts(at: datetime) -> str:
    """yyyyMMddHHmm in Vietnam time (what a HIS writes)."""
    return at.astimezone(VN).strftime("%Y%m%d%H%M")


def checkin_rows(citizen, facility_code: str, *, at: datetime | None = None, ma_lk: str | None = None, **over):
    """The XML0 rows (one status row) of a check-in of `citizen` (a Citizen) at the facility."""
    at = at or (datetime.now(UTC) - timedelta(minutes=5))
    ma_lk = ma_lk or f"CI{facility_code}{next(_n):08d}"
    row = {
        "MA_LK": ma_lk,
        "STT": "1",
        "MA_BN": f"BN{next(_n):08d}",
        "HO_TEN": citizen.full_name,
        "SO_CCCD": citizen.personal_id or "",
        "NGAY_SINH": citizen.birth_date.strftime("%Y%m%d") + "0000",
        "GIOI_TINH": str(citizen.sex or 3),
        "MA_THE_BHYT": "",
        "MA_DOITUONG_KCB": "1.1",
        "NGAY_VAO": ts(at),
        "MA_LOAI_KCB": "01",
        "MA_CSKCB": facility_code,
        "MA_DICH_VU": "02.1896",
        "TEN_DICH_VU": "Khám Nội",
        "NGAY_YL": ts(at),
    }
    row.update(over)
    return [row]


def checkin_envelope(leaf, facility_code: str, hosos: list[list[dict]]) -> bytes:
    """A signed GIAMDINHHS whose HOSOs each hold only an XML0 table."""
    today = datetime.now(UTC).astimezone(VN).date()
    return sign(build_envelope(facility_code, [{"XML0": rows} for rows in hosos], today, load_spec()), leaf)


def visit_for(visits: list[dict], citizen, *, key: str, follow_up: bool = False, **xml1) -> dict:
    """A copy of the generated visit tables, for `citizen`, with MA_LK `key` and XML1 overrides
    (the follow-up slip XML14 only with `follow_up`, carrying the same patient fields)."""
    v = copy.deepcopy(visits[0])
    if not follow_up:
        v.pop("XML14", None)
    head = v["XML1"][0]
    for tables in v.values():
        for row in tables:
            if "MA_LK" in row:
                row["MA_LK"] = key
    head.update(
        {
            "HO_TEN": citizen.full_name,
            "SO_CCCD": citizen.personal_id,
            "NGAY_SINH": citizen.birth_date.strftime("%Y%m%d") + "0000",
            "GIOI_TINH": str(citizen.sex),
            "MA_THE_BHYT": "",
        }
    )
    head.update(xml1)
    for row in v.get("XML14", ()):
        row.update({k: head[k] for k in ("HO_TEN", "NGAY_SINH", "GIOI_TINH", "MA_THE_BHYT")})
    return v


def visit_envelope(leaf, facility_code: str, visits: list[dict]) -> bytes:
    today = datetime.now(UTC).astimezone(VN).date()
    return sign(build_envelope(facility_code, visits, today, load_spec()), leaf)


def fhir_checkin(citizen, *, status: str = "arrived", start: datetime | None = None, key: str = "enc-1") -> bytes:
    """A FHIR collection Bundle: the Patient and one Encounter with the given status."""
    start = start or (datetime.now(UTC) - timedelta(minutes=5))
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p1",
                    "identifier": [{"system": "http://fhir.hl7.org.vn/core/sid/cccd", "value": citizen.personal_id}],
                    "name": [{"text": citizen.full_name}],
                    "gender": {1: "male", 2: "female"}.get(citizen.sex, "unknown"),
                    "birthDate": citizen.birth_date.isoformat(),
                }
            },
            {
                "resource": {
                    "resourceType": "Encounter",
                    "id": key,
                    "status": status,
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                    "subject": {"reference": "Patient/p1"},
                    "period": {"start": start.astimezone(VN).isoformat(timespec="seconds")},
                }
            },
        ],
    }
    return json.dumps(bundle).encode()


def open_book(user, citizen, viewed: str = "book"):
    from healthbook.book.access import book_get_for_user

    return book_get_for_user(user, citizen.book.public_id, viewed=viewed, request=RequestFactory().get("/"))


def can_open(user, citizen) -> bool:
    from django.http import Http404

    from healthbook.book.access import BookAccessDenied

    try:
        return open_book(user, citizen).purpose == "TREAT"
    except (BookAccessDenied, Http404):
        return False
