from accounts import access


def test_outsider_manages_no_one(outsider, facility_a):
    assert not access.staff_visible_to(outsider).exists()


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
