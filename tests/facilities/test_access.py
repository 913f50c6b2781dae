"""Which facilities a member of staff may see in the registry (facilities.access)."""

from facilities import access


def test_province_officer_sees_only_facilities_of_their_province(officer_hanoi, facility_a, facility_a2, facility_b):
    assert set(access.facilities_visible_to(officer_hanoi)) == {facility_a, facility_a2}


def test_doctor_sees_only_their_facility(doctor_a, facility_a2, facility_b):
    assert list(access.facilities_visible_to(doctor_a)) == [doctor_a.facility]


def test_outsider_sees_no_facility(outsider, facility_a):
    assert not access.facilities_visible_to(outsider).exists()
