"""The one province-scope rule: the same answer for a queryset (scope_filter) and for one row
(in_scope), for every kind of member of staff."""

import pytest

from core.authentication import FacilityPrincipal
from core.scope import FACILITY, NATIONAL, NOTHING, PROVINCE, in_scope, scope_filter, scope_of
from facilities.models import Facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def actors(ministry_editor, officer_hanoi, facility_admin_a, doctor_b, outsider):
    return {
        "ministry": ministry_editor,
        "officer 01": officer_hanoi,
        "facility admin A": facility_admin_a,
        "doctor B": doctor_b,
        "outsider": outsider,
    }


def test_each_role_has_its_part_of_the_country(actors, facility_a, facility_b):
    kinds = {name: scope_of(user).kind for name, user in actors.items()}
    assert kinds == {
        "ministry": NATIONAL,
        "officer 01": PROVINCE,
        "facility admin A": FACILITY,
        "doctor B": FACILITY,
        "outsider": NOTHING,
    }


def test_facility_lookups_narrow_facility_staff_to_their_facility(actors, facility_a, facility_a2, facility_b):
    def seen(user, **lookups):
        return set(
            scope_filter(Facility.objects.all(), user, province="province", **lookups).values_list("code", flat=True)
        )

    assert seen(actors["ministry"], facility="pk") == {"01001", "01002", "79001"}
    assert seen(actors["officer 01"], facility="pk") == {"01001", "01002"}
    assert seen(actors["facility admin A"], facility="pk") == {"01001"}
    assert seen(actors["facility admin A"]) == {"01001", "01002"}  # without a facility lookup: the province
    assert seen(actors["outsider"], facility="pk") == set()


def test_one_row_gets_the_same_answer_as_the_queryset(actors, facility_a, facility_a2, facility_b):
    for user in actors.values():
        for by_facility in (True, False):
            lookups = {"facility": "pk"} if by_facility else {}
            rows = set(scope_filter(Facility.objects.all(), user, province="province", **lookups))
            for facility in (facility_a, facility_a2, facility_b):
                allowed = in_scope(
                    user, province_id=facility.province_id, facility_id=facility.pk, by_facility=by_facility
                )
                assert allowed == (facility in rows), (user.username, facility.code, by_facility)


def test_inactive_accounts_and_software_have_no_scope(officer_hanoi, facility_a):
    officer_hanoi.is_active = False
    assert scope_of(officer_hanoi).kind == NOTHING
    software = FacilityPrincipal(facility_a, api_key=None)
    assert scope_of(software).kind == NOTHING
    assert not scope_filter(Facility.objects.all(), software, province="province", facility="pk").exists()
