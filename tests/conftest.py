"""Named actors, so that access tests read as sentences.

Facility A (01001) and its sibling A2 (01002) are in Hà Nội (01); facility B (79001) is in
TP. Hồ Chí Minh (79).
"""

import pytest
from allauth.mfa.models import Authenticator

from core.roles import Role
from tests import factories as f

# Every test that needs real transactions (threads, live server, worker processes) uses this mark:
# serialized_rollback restores the reference data loaded by migrations (provinces) after the
# flush, and mixing it with plain transaction=True tests would duplicate content types.
TRANSACTIONAL = pytest.mark.django_db(transaction=True, serialized_rollback=True)

pytest_plugins = ["tests.proof.plugin"]


@pytest.fixture
def facility_a(db):
    return f.FacilityFactory(code="01001", name="Bệnh viện Thử nghiệm A", province=f.province("01"))


@pytest.fixture
def facility_a2(db):
    return f.FacilityFactory(code="01002", name="Trạm Y tế Thử nghiệm A2", province=f.province("01"))


@pytest.fixture
def facility_b(db):
    return f.FacilityFactory(code="79001", name="Bệnh viện Thử nghiệm B", province=f.province("79"))


@pytest.fixture
def doctor_a(facility_a):
    return f.doctor(facility_a, username="doctor_a")


@pytest.fixture
def doctor_b(facility_b):
    return f.doctor(facility_b, username="doctor_b")


@pytest.fixture
def facility_admin_a(facility_a):
    return f.facility_admin(facility_a, username="facility_admin_a")


@pytest.fixture
def facility_admin_b(facility_b):
    return f.facility_admin(facility_b, username="facility_admin_b")


@pytest.fixture
def officer_hanoi(db):
    return f.province_officer("01", username="officer_hanoi")


@pytest.fixture
def officer_hcm(db):
    return f.province_officer("79", username="officer_hcm")


@pytest.fixture
def ministry_admin(db):
    return f.ministry(Role.MINISTRY_ADMIN, username="ministry_admin")


@pytest.fixture
def ministry_editor(db):
    return f.ministry(Role.MINISTRY_EDITOR, username="ministry_editor")


@pytest.fixture
def outsider(db):
    """A signed-in account with no role (e.g. an operations superuser without a portal role)."""
    return f.UserFactory(username="outsider", role="")


def enrol_totp(user) -> Authenticator:
    """Give the user an active TOTP authenticator (MFA is required before any portal page)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    return TOTP.activate(user, generate_totp_secret()).instance


@pytest.fixture
def login(client):
    """Sign a user in with MFA already enrolled: `login(doctor_a)` returns the client."""

    def _login(user, *, mfa: bool = True):
        if mfa:
            enrol_totp(user)
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def app_role(db):
    """The database role the application runs as (DATABASE_URL's user), for tests that act as it
    with `SET LOCAL ROLE` (the tests themselves connect as the owner: config/test_settings.py).

    With one role configured (development: the tests would then *be* the application role) a
    role is made for the test — rolled back with it — and given exactly the application's grants
    (core.dbroles.app_role_grant, what `migrate` grants DATABASE_URL's role)."""
    from django.conf import settings
    from django.db import connection

    from core.dbroles import app_role_grant

    role = settings.SSKDT_DATABASE_APP_ROLE
    with connection.cursor() as cur:
        cur.execute("SELECT current_user")
        if cur.fetchone()[0] == role:
            role = "sskdt_test_app"
            cur.execute(
                "DO $$ BEGIN CREATE ROLE sskdt_test_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
            app_role_grant(cur, role)
    return role


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Rendered book fragments, the code lists in force and the names read from them, and the
    facilities remembered by code live in process memory: no test sees another's."""
    from django.core.cache import caches

    from codelists import in_force, lookups
    from facilities.selectors import facility_names_forget

    caches["book_fragments"].clear()
    in_force.forget()
    lookups.forget()
    facility_names_forget()
