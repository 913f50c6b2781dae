from accounts import access


def test_ministry_sees_all_provinces(ministry_admin):
    assert access.provinces_visible_to(ministry_admin).count() == 34


def test_province_officer_sees_only_their_province(officer_hanoi):
    assert list(access.provinces_visible_to(officer_hanoi).values_list("code", flat=True)) == ["01"]


def test_province_officer_sees_only_facilities_of_their_province(officer_hanoi, facility_a, facility_a2, facility_b):
    assert set(access.facilities_visible_to(officer_hanoi)) == {facility_a, facility_a2}


def test_doctor_sees_only_their_facility(doctor_a, facility_a2, facility_b):
    assert list(access.facilities_visible_to(doctor_a)) == [doctor_a.facility]


def test_outsider_sees_nothing(outsider, facility_a):
    assert not access.provinces_visible_to(outsider).exists()
    assert not access.facilities_visible_to(outsider).exists()
    assert not access.staff_visible_to(outsider).exists()


def test_deactivated_user_loses_scope(officer_hanoi):
    officer_hanoi.is_active = False
    assert not access.provinces_visible_to(officer_hanoi).exists()


def test_each_role_creates_only_the_role_below(
    doctor_a, facility_admin_a, officer_hanoi, ministry_admin, ministry_editor
):
    assert access.creatable_roles(doctor_a) == ()
    assert access.creatable_roles(ministry_editor) == ()
    assert access.creatable_roles(facility_admin_a) == ("doctor",)
    assert access.creatable_roles(officer_hanoi) == ("facility_admin",)
    assert "province_officer" in access.creatable_roles(ministry_admin)


def test_province_officer_manages_only_facility_admins_of_their_province(
    officer_hanoi, facility_admin_a, facility_admin_b, doctor_a
):
    assert list(access.staff_visible_to(officer_hanoi)) == [facility_admin_a]


def test_facility_admin_manages_only_doctors_of_their_facility(facility_admin_a, doctor_a, doctor_b, facility_a2):
    from tests.factories import doctor

    other = doctor(facility_a2, username="doctor_a2")
    visible = set(access.staff_visible_to(facility_admin_a))
    assert doctor_a in visible and doctor_b not in visible and other not in visible
