"""The invitation mail and what following it does (issue 18): the portal's own mail, in
Vietnamese, with a set-password link that verifies the address so allauth lets the new member
enrol TOTP."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts import services
from core.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "Mat-khau-moi-2026!"  # noqa: S105 — a test account only


@pytest.fixture
def approved_doctor(client, login, facility_admin_a, officer_hanoi, django_capture_on_commit_callbacks):
    """A doctor made by the facility and confirmed by the province, through the pages."""
    login(facility_admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("staff-create"),
            {
                "full_name": "Bác sĩ Được Mời",
                "username": "bs.duocmoi",
                "email": "BS.DuocMoi@test.invalid",
                "role": Role.DOCTOR,
                "practising_certificate": "000777/HNO-CCHN",
            },
        )
    assert mail.outbox == []  # pending: no link before the province confirms
    client.logout()
    login(officer_hanoi)
    doctor = facility_admin_a.__class__.objects.get(username="bs.duocmoi")
    with django_capture_on_commit_callbacks(execute=True):
        url = reverse("staff-approve", kwargs={"public_id": doctor.public_id})
        client.post(url, {"practising_certificate": "000777/HNO-CCHN"})
    client.logout()
    return doctor


def test_the_address_is_on_record_unverified_until_the_link_is_followed(approved_doctor):
    (address,) = EmailAddress.objects.filter(user=approved_doctor)
    assert address.email == "bs.duocmoi@test.invalid" and address.primary and not address.verified


def test_the_invitation_is_the_portals_own_mail_in_vietnamese(approved_doctor, facility_admin_a, officer_hanoi):
    (invitation,) = mail.outbox
    assert invitation.to == ["BS.DuocMoi@test.invalid"]
    assert invitation.subject == "[Sổ sức khỏe điện tử] Lời mời dành cho Bác sĩ Được Mời: hãy đặt mật khẩu"
    body = invitation.body
    assert "Kính gửi Bác sĩ Được Mời," in body
    assert f"với vai trò Bác sĩ tại {facility_admin_a.facility}" in body
    assert f"Người tạo: {facility_admin_a.display_name}." in body
    assert f"Người phê duyệt: {officer_hanoi.display_name}." in body
    assert "Tên đăng nhập của bạn: bs.duocmoi" in body
    assert "hết hạn sau 3 ngày" in body
    assert "Sổ sức khỏe điện tử · testserver" in body
    for wrong in ("someone else", "đặt lại mật khẩu", "127.0.0.1"):
        assert wrong not in body


def _follow_invitation(client) -> None:
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form_url = client.get(link)["Location"]  # allauth moves the key into the session
    response = client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content.decode()


def test_setting_the_password_verifies_the_address_and_totp_enrolment_opens(client, approved_doctor):
    _follow_invitation(client)
    assert EmailAddress.objects.get(user=approved_doctor).verified
    assert client.post(reverse("account_login"), {"login": "bs.duocmoi", "password": PASSWORD}).status_code == 302
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert "xác minh địa chỉ email" not in response.content.decode()
    # the link works once
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    client.logout()
    assert "Location" not in client.get(link)


def test_a_second_address_is_not_verified_by_a_reset_link(client, approved_doctor):
    EmailAddress.objects.create(user=approved_doctor, email="khac@test.invalid", verified=False)
    assert services.invitation_accepted(None, approved_doctor) is False
    assert not EmailAddress.objects.filter(user=approved_doctor, verified=True).exists()


def test_an_unverified_address_leads_to_the_email_page_not_a_refusal_loop(client, approved_doctor):
    approved_doctor.set_password(PASSWORD)
    approved_doctor.save(update_fields=["password"])
    client.force_login(approved_doctor)
    response = client.get(reverse("home"))
    assert response["Location"] == reverse("account_email")
    page = client.get(reverse("account_email")).content.decode()
    assert "bs.duocmoi@test.invalid" in page


def test_staff_create_without_a_request_still_records_the_address(facility_admin_a, officer_hanoi, facility_a):
    admin = services.staff_create(
        acting_user=officer_hanoi,
        username="qt.khac",
        email="qt.khac@test.invalid",
        full_name="Quản trị Khác",
        role=Role.FACILITY_ADMIN,
        facility=facility_a,
    )
    assert EmailAddress.objects.filter(user=admin, verified=False).count() == 1
