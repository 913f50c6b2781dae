"""Second-party approval of accounts: the province confirms doctors (with the practising-certificate
number), another ministry administrator approves a ministry administrator. Until then the account
cannot sign in."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts import services
from accounts.models import User
from core.roles import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_doctor(facility_admin_a):
    return services.staff_create(
        acting_user=facility_admin_a,
        username="bs.moi",
        email="bs.moi@test.invalid",
        full_name="Bác sĩ Mới",
        role=Role.DOCTOR,
        practising_certificate="000321/HNO-CCHN",
    )


def test_a_new_doctor_waits_and_cannot_sign_in(client, new_doctor):
    assert new_doctor.is_pending and new_doctor.is_active
    new_doctor.set_password(f.TEST_PASSWORD)
    new_doctor.save(update_fields=["password"])
    assert not client.login(username="bs.moi", password=f.TEST_PASSWORD)
    client.force_login(new_doctor)  # a session made some other way is not accepted either
    assert client.get(reverse("home")).status_code == 302


def test_the_province_confirms_with_the_number_from_its_register(
    client, login, officer_hanoi, new_doctor, django_capture_on_commit_callbacks
):
    login(officer_hanoi)
    page = client.get(reverse("staff-approvals")).content.decode()
    assert "Bác sĩ Mới" in page and "000321/HNO-CCHN" not in page  # the officer types it, not copies it
    url = reverse("staff-approve", kwargs={"public_id": new_doctor.public_id})
    client.post(url, {"practising_certificate": "000999/HNO-CCHN"}, HTTP_ACCEPT_LANGUAGE="vi")
    new_doctor.refresh_from_db()
    assert new_doctor.is_pending
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"practising_certificate": " 000321/hno-cchn "})
    new_doctor.refresh_from_db()
    assert not new_doctor.is_pending and new_doctor.approved_by == officer_hanoi
    assert [m.to for m in mail.outbox] == [["bs.moi@test.invalid"]]


@pytest.mark.parametrize("approver", ["officer_hcm", "facility_admin_a", "ministry_admin", "doctor_a"])
def test_nobody_else_confirms_a_doctor(request, client, login, new_doctor, approver):
    login(request.getfixturevalue(approver))
    response = client.post(
        reverse("staff-approve", kwargs={"public_id": new_doctor.public_id}),
        {"practising_certificate": "000321/HNO-CCHN"},
    )
    assert response.status_code in (403, 404)
    new_doctor.refresh_from_db()
    assert new_doctor.is_pending


def test_the_officer_who_made_the_facility_admin_does_not_confirm_its_doctors(officer_hanoi, facility_a):
    admin = services.staff_create(
        acting_user=officer_hanoi,
        username="qt.moi",
        email="qt.moi@test.invalid",
        full_name="Quản trị Mới",
        role=Role.FACILITY_ADMIN,
        facility=facility_a,
    )
    assert not admin.is_pending  # approved by its creator, the province
    doctor = services.staff_create(
        acting_user=admin,
        username="bs.chuoi",
        email="bs.chuoi@test.invalid",
        full_name="Bác sĩ Chuỗi",
        role=Role.DOCTOR,
        practising_certificate="000555/HNO-CCHN",
    )
    with pytest.raises(PermissionDenied):
        services.staff_approve(acting_user=officer_hanoi, member=doctor, practising_certificate="000555/HNO-CCHN")
    colleague = f.province_officer("01", username="officer_hanoi_2")
    services.staff_approve(acting_user=colleague, member=doctor, practising_certificate="000555/HNO-CCHN")
    doctor.refresh_from_db()
    assert not doctor.is_pending


def test_a_ministry_admin_is_approved_by_another_and_reactivation_approves_nothing(ministry_admin):
    new = services.staff_create(
        acting_user=ministry_admin,
        username="qt.bo",
        email="qt.bo@test.invalid",
        full_name="Quản trị Bộ Mới",
        role=Role.MINISTRY_ADMIN,
    )
    assert new.is_pending
    with pytest.raises(PermissionDenied):
        services.staff_approve(acting_user=ministry_admin, member=new)
    services.staff_deactivate(acting_user=ministry_admin, user=new)
    services.staff_reactivate(acting_user=ministry_admin, user=new)
    new.refresh_from_db()
    assert new.is_pending
    second = f.ministry(username="ministry_admin_2")
    services.staff_approve(acting_user=second, member=new)
    new.refresh_from_db()
    assert not new.is_pending and new.approved_by == second


def test_editors_and_officers_are_approved_by_their_creator(ministry_admin):
    editor = services.staff_create(
        acting_user=ministry_admin,
        username="bt.moi",
        email="bt.moi@test.invalid",
        full_name="Biên tập Mới",
        role=Role.MINISTRY_EDITOR,
    )
    assert not editor.is_pending and editor.approved_by == ministry_admin


def test_the_certificate_number_is_checked(facility_admin_a):
    for number in ("", "12", "x" * 41, "000/ABC<b>", "a\x00b"):
        with pytest.raises(ValidationError):
            services.staff_create(
                acting_user=facility_admin_a,
                username="bs.sai",
                email="bs.sai@test.invalid",
                full_name="Sai",
                role=Role.DOCTOR,
                practising_certificate=number,
            )
    assert not User.objects.filter(username="bs.sai").exists()
