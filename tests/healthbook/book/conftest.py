"""Fixtures of the doctor-page tests: code lists with names, citizens with and without a care
relationship with facility A, and the access log's count helper."""

import datetime as dt

import pytest

from accesslog.models import AccessLogEntry
from tests.codelists import factories as cf
from tests.factories import province
from tests.healthbook.book import factories as df


@pytest.fixture
def code_lists(db):
    rows = {
        "icd10": [
            ("I10", "Tăng huyết áp vô căn (nguyên phát)", True),
            ("E11", "Bệnh đái tháo đường không phụ thuộc insuline", True),
            ("Z88.0", "Tiền sử dị ứng penicilin", True),
            ("J06", "Nhiễm trùng hô hấp trên cấp", True),
        ],
        "lab-indicator": [("GLU", "Glucose máu", True)],
        "visit-type": [("01", "Khám bệnh", True)],
        "vaccine": [
            (
                "TCMR-BCG",
                "Vắc xin phòng lao (BCG)",
                True,
                {"schedule": [{"dose": 1, "age": {"value": 0, "unit": "day"}}]},
            ),
            ("TCMR-SOI", "Vắc xin sởi", True, {"schedule": [{"dose": 1, "age": {"value": 9, "unit": "month"}}]}),
        ],
    }
    for key, concepts in rows.items():
        cf.version(cf.system(key, max_code_length=10), "v1", concepts, effective_from=dt.date(2020, 1, 1))


@pytest.fixture
def patient_a(facility_a, code_lists):
    """A citizen seen at facility A last month (care relationship with doctor_a)."""
    person = df.citizen(name="Nguyễn Văn Bệnh", province=province("01"))
    e = df.visit(
        person.book,
        facility_a,
        dx="I10",
        secondary=["E11", "Z88.0"],
        labs=3,
        drugs=2,
        note="Huyết áp 150/95, tái khám sau 1 tháng",
    )
    df.discharge(e)
    return person


@pytest.fixture
def stranger(facility_b, code_lists):
    """A citizen known only at facility B (no relationship with facility A)."""
    person = df.citizen(name="Trần Thị Xa", province=province("79"), sex=2)
    df.visit(person.book, facility_b, dx="J06", labs=1)
    return person


def log_count() -> int:
    return AccessLogEntry.objects.count()


def last_entry() -> AccessLogEntry:
    return AccessLogEntry.objects.order_by("-seq").first()


def _approve(facility):
    from django.utils import timezone

    from facilities.models import FacilityStatus

    facility.status = FacilityStatus.CONNECTED
    facility.approved_at = timezone.now()
    facility.save(update_fields=["status", "approved_at"])


@pytest.fixture
def key_a(facility_a):
    from facilities.credentials import api_key_create

    _approve(facility_a)
    return api_key_create(facility=facility_a, name="HIS A", acting_user=None).key


@pytest.fixture
def key_b(facility_b):
    from facilities.credentials import api_key_create

    _approve(facility_b)
    return api_key_create(facility=facility_b, name="HIS B", acting_user=None).key


@pytest.fixture
def citizen_app_key(db):
    from accesslog.services import citizen_app_client_create

    return citizen_app_client_create(name="VNeID (thử nghiệm)")[1]


REDIRECT_URI = "http://127.0.0.1:8765/callback"


def practitioner_token(key: str, username: str) -> str | None:
    """The token facility software holds after `username` signed in and allowed it (the grant
    and the exchange of facilities.software_grants, without the browser round trip; the HTTP
    flow itself is tested in tests/facilities/test_software_grants.py). None when that doctor
    cannot grant this key (another facility's doctor, an unconfirmed doctor, nobody)."""
    import base64
    import hashlib
    import secrets

    from accounts.models import User
    from facilities import software_grants as grants
    from facilities.credentials import api_key_authenticate

    api_key = api_key_authenticate(key)
    user = User.objects.select_related("facility").filter(username=username).first()
    if api_key is None or user is None or not grants.may_grant(user, api_key):
        return None
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request = grants.AuthorizationRequest(
        api_key=api_key, redirect_uri=REDIRECT_URI, state="", code_challenge=challenge, scope=grants.SCOPE
    )
    code = grants.software_authorization_grant(user=user, request=request)
    issued = grants.practitioner_token_issue(
        api_key=api_key, client_id=api_key.prefix, code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier
    )
    return issued.token


def facility_headers(key: str, practitioner: str, purpose: str = "TREAT", **extra) -> dict:
    """Headers of facility software reading for `practitioner`: the doctor's token when that
    doctor granted it, else only the key and the doctor's name in a header (which names nobody:
    the read is refused with practitioner_token_required)."""
    token = practitioner_token(key, practitioner)
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {token}" if token else f"Api-Key {key}",
        "HTTP_X_PURPOSE_OF_USE": purpose,
    }
    if not token:
        headers["HTTP_X_PRACTITIONER_ID"] = practitioner
    headers.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in extra.items()})
    return headers
