import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import AuditEvent, User
from core.roles import Role


def test_doctor_gets_403_on_staff_pages(login, doctor_a):
    client = login(doctor_a)
    assert client.get(reverse("staff-list")).status_code == 403
    assert client.get(reverse("staff-create")).status_code == 403


def test_ministry_editor_gets_403_on_staff_pages(login, ministry_editor):
    assert login(ministry_editor).get(reverse("staff-list")).status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("staff-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_province_officer_cannot_list_another_provinces_staff(login, officer_hanoi, facility_admin_a, facility_admin_b):
    body = login(officer_hanoi).get(reverse("staff-list")).content.decode()
    assert facility_admin_a.username in body
    assert facility_admin_b.username not in body


def test_province_officer_gets_404_on_another_provinces_staff(login, officer_hanoi, facility_admin_b):
    client = login(officer_hanoi)
    assert client.get(reverse("staff-detail", args=[facility_admin_b.public_id])).status_code == 404
    response = client.post(reverse("staff-deactivate", args=[facility_admin_b.public_id]))
    assert response.status_code == 404
    facility_admin_b.refresh_from_db()
    assert facility_admin_b.is_active


def test_province_officer_cannot_create_facility_admin_in_another_province(login, officer_hanoi, facility_b):
    client = login(officer_hanoi)
    response = client.post(
        reverse("staff-create"),
        {
            "full_name": "Ngô Văn C",
            "username": "fa_other",
            "email": "fa_other@test.invalid",
            "role": Role.FACILITY_ADMIN,
            "facility": facility_b.pk,
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="fa_other").exists()


def test_province_officer_creates_facility_admin_and_a_set_password_mail_is_sent(
    login, officer_hanoi, facility_a, django_capture_on_commit_callbacks
):
    client = login(officer_hanoi)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff-create"),
            {
                "full_name": "Đỗ Thị Hoa",
                "username": "fa_new",
                "email": "fa_new@test.invalid",
                "role": Role.FACILITY_ADMIN,
                "facility": facility_a.pk,
            },
        )
    created = User.objects.get(username="fa_new")
    assert response.status_code == 302
    assert (created.role, created.facility, created.province.code) == (Role.FACILITY_ADMIN, facility_a, "01")
    assert not created.has_usable_password()
    assert created.created_by == officer_hanoi
    assert [m.to for m in mail.outbox] == [["fa_new@test.invalid"]]
    assert AuditEvent.objects.filter(action="staff_create", target_id=str(created.public_id)).exists()


def test_facility_admin_creates_doctor_only_at_their_facility(login, facility_admin_a, facility_b):
    client = login(facility_admin_a)
    client.post(
        reverse("staff-create"),
        {
            "full_name": "Bùi Văn D",
            "username": "doc_new",
            "email": "doc_new@test.invalid",
            "role": Role.DOCTOR,
            "facility": facility_b.pk,
            "practising_certificate": "001234/hno-cchn",
        },
    )
    created = User.objects.get(username="doc_new")
    assert created.facility == facility_admin_a.facility
    # Pending until the province confirms the certificate (issue 15): no session, no book.
    assert created.is_pending and created.practising_certificate == "001234/HNO-CCHN"


def test_a_doctor_needs_a_practising_certificate_number(login, facility_admin_a):
    client = login(facility_admin_a)
    for number in ("", "ab", "x" * 41, "<script>"):
        response = client.post(
            reverse("staff-create"),
            {
                "full_name": "Bùi Văn E",
                "username": "doc_nocert",
                "email": "doc_nocert@test.invalid",
                "role": Role.DOCTOR,
                "practising_certificate": number,
            },
        )
        assert response.status_code == 200 and not User.objects.filter(username="doc_nocert").exists()


def test_facility_admin_cannot_create_a_province_officer(login, facility_admin_a):
    client = login(facility_admin_a)
    client.post(
        reverse("staff-create"),
        {"full_name": "X", "username": "po_new", "email": "po_new@test.invalid", "role": Role.PROVINCE_OFFICER},
    )
    assert not User.objects.filter(username="po_new").exists()


def test_duplicate_username_gets_a_clear_message(login, facility_admin_a, doctor_a):
    response = login(facility_admin_a).post(
        reverse("staff-create"),
        {"full_name": "X", "username": doctor_a.username.upper(), "email": "x@test.invalid", "role": Role.DOCTOR},
    )
    assert response.status_code == 200
    assert "aria-invalid" in response.content.decode()


@pytest.mark.django_db
def test_deactivation_ends_every_session_of_the_user(client, login, facility_admin_a, doctor_a):
    from django.test import Client

    from tests.conftest import enrol_totp

    enrol_totp(doctor_a)
    doctor_client = Client()
    doctor_client.force_login(doctor_a)
    # A request through the middleware registers the session with allauth's usersessions.
    assert doctor_client.get(reverse("home")).status_code == 200

    admin_client = login(facility_admin_a)
    admin_client.post(reverse("staff-deactivate", args=[doctor_a.public_id]))

    doctor_a.refresh_from_db()
    assert not doctor_a.is_active
    response = doctor_client.get(reverse("home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_nobody_deactivates_themselves(login, ministry_admin):
    client = login(ministry_admin)
    client.post(reverse("staff-deactivate", args=[ministry_admin.public_id]))
    ministry_admin.refresh_from_db()
    assert ministry_admin.is_active
