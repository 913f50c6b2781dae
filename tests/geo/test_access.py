"""Which provinces a member of staff may see (geo.access, on the one scope rule)."""

from geo import access


def test_ministry_sees_all_provinces(ministry_admin):
    assert access.provinces_visible_to(ministry_admin).count() == 34


def test_province_officer_sees_only_their_province(officer_hanoi):
    assert list(access.provinces_visible_to(officer_hanoi).values_list("code", flat=True)) == ["01"]


def test_outsider_sees_no_province(outsider):
    assert not access.provinces_visible_to(outsider).exists()


def test_deactivated_user_loses_scope(officer_hanoi):
    officer_hanoi.is_active = False
    assert not access.provinces_visible_to(officer_hanoi).exists()
