from django.urls import reverse

from core.roles import Role


def test_each_role_has_its_own_home(login, doctor_a, officer_hanoi, ministry_editor):
    assert "Bác sĩ" in login(doctor_a).get(reverse("home")).content.decode()
    body = login(officer_hanoi).get(reverse("home")).content.decode()
    assert "Thành phố Hà Nội" in body


def test_navigation_is_role_aware(login, doctor_a, facility_admin_a):
    staff_url = f'href="{reverse("staff-list")}"'
    assert staff_url not in login(doctor_a).get(reverse("home")).content.decode()
    assert staff_url in login(facility_admin_a).get(reverse("home")).content.decode()


def test_language_choice_is_remembered_per_user(login, doctor_a):
    client = login(doctor_a)
    client.post(reverse("language-set"), {"language": "en", "next": "/"})
    doctor_a.refresh_from_db()
    assert doctor_a.language == "en"
    body = client.get(reverse("home")).content.decode()
    assert "Find a citizen" in body and 'lang="en"' in body


def test_language_switch_refuses_an_offsite_redirect(login, doctor_a):
    response = login(doctor_a).post(reverse("language-set"), {"language": "vi", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_account_without_role_sees_a_notice_not_a_home(login, outsider):
    assert login(outsider).get(reverse("home")).status_code == 403


def test_role_labels_are_translated(login, ministry_admin):
    body = login(ministry_admin).get(reverse("home")).content.decode()
    assert str(Role.MINISTRY_ADMIN.label) != "Ministry administrator" or "Quản trị" in body


def test_vietnamese_for_every_visitor_whatever_the_browser_asks(db, client, settings):
    """Issue 18: a browser set up in English got an English login page."""
    body = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="vi"' in body and "Đăng nhập" in body
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # chosen with the language switch
    body = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert 'lang="en"' in body and "Sign in" in body


def test_the_bar_groups_entries_into_menus_so_it_fits_one_line(officer_hanoi, facility_admin_a, doctor_a):
    """Issue 18: the bar wrapped to two lines at 1366 px for province, ministry and facility roles."""
    from django.utils import translation

    from accounts.navigation import nav_for

    officer = nav_for(officer_hanoi)
    assert len(officer) <= 7
    with translation.override("vi"):
        menus = {str(e["label"]): [str(c["label"]) for c in e["children"]] for e in officer if "children" in e}
    assert menus["Tài khoản"] == ["Cán bộ", "Tài khoản chờ phê duyệt"]
    assert "Dữ liệu gửi lên" in menus["Dữ liệu"]
    assert all("children" not in e for e in nav_for(doctor_a))
    assert len(nav_for(facility_admin_a)) <= 6
