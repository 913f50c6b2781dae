import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import AuditEvent
from facilities import services
from facilities.health import facility_connection_event_record
from facilities.models import Facility, FacilityDailyHealth, FacilityStatus
from tests import factories as f
from tests.conftest import TRANSACTIONAL

S = FacilityStatus


def _register(user, code="01060", **kw):
    return services.facility_register(
        acting_user=user, code=code, province=f.province("01"), name="Phòng khám Đăng Ký", **kw
    )


def test_facility_admin_registers_pending_with_history(facility_admin_a):
    facility = _register(facility_admin_a)
    assert facility.status == S.PENDING
    change = facility.status_changes.get()
    assert (change.from_status, change.to_status, change.actor) == ("", S.PENDING, facility_admin_a)
    assert AuditEvent.objects.filter(action="facility_register", target_id=str(facility.public_id)).exists()


def test_officer_registers_on_behalf(officer_hanoi):
    assert _register(officer_hanoi).registered_by == officer_hanoi


def test_code_must_be_five_digits(officer_hanoi):
    with pytest.raises(ValidationError) as exc:
        _register(officer_hanoi, code="01A01")
    assert "code" in exc.value.message_dict


def test_code_prefix_must_belong_to_province(officer_hanoi):
    with pytest.raises(ValidationError) as exc:
        _register(officer_hanoi, code="79123")
    assert "code" in exc.value.message_dict


def test_old_province_prefix_is_accepted_for_merged_province(db):
    officer = f.province_officer("31", username="officer_haiphong")
    facility = services.facility_register(
        acting_user=officer, code="30001", province=f.province("31"), name="Trạm Y tế cũ Hải Dương"
    )
    assert facility.province.code == "31"


def test_duplicate_code_refused(officer_hanoi, facility_a):
    with pytest.raises(ValidationError):
        _register(officer_hanoi, code=facility_a.code)


def test_doctor_cannot_register(doctor_a):
    with pytest.raises(PermissionDenied):
        _register(doctor_a)


def test_approve_sets_approved_and_records_who(officer_hanoi, pending_hanoi):
    facility = services.facility_approve(acting_user=officer_hanoi, facility=pending_hanoi, reason="Hồ sơ đầy đủ")
    assert facility.status == S.APPROVED and facility.approved_at is not None
    assert facility.status_changes.first().actor == officer_hanoi


def test_reject_needs_reason(officer_hanoi, pending_hanoi):
    with pytest.raises(ValidationError):
        services.facility_reject(acting_user=officer_hanoi, facility=pending_hanoi, reason="  ")
    facility = services.facility_reject(acting_user=officer_hanoi, facility=pending_hanoi, reason="Thiếu giấy phép")
    assert facility.status == S.REJECTED
    assert facility.status_changes.first().reason == "Thiếu giấy phép"


def test_corrected_rejected_registration_goes_back_to_pending(officer_hanoi, pending_hanoi):
    services.facility_reject(acting_user=officer_hanoi, facility=pending_hanoi, reason="Sai địa chỉ")
    facility = services.facility_profile_update(
        acting_user=officer_hanoi, facility=pending_hanoi, address="Số 1 đường Mới"
    )
    assert facility.status == S.PENDING
    assert list(facility.status_changes.values_list("to_status", flat=True))[:2] == [S.PENDING, S.REJECTED]


def test_connected_cannot_be_set_by_hand(officer_hanoi, approved_a):
    assert "connect" not in services.TRANSITIONS
    with pytest.raises(ValidationError):
        services.facility_transition(acting_user=officer_hanoi, facility=approved_a, action="connect")


def test_first_accepted_submission_connects(approved_a):
    at = timezone.now()
    assert facility_connection_event_record(facility=approved_a, at=at, accepted=True) is True
    approved_a.refresh_from_db()
    assert approved_a.status == S.CONNECTED and approved_a.first_accepted_at == at
    change = approved_a.status_changes.first()
    assert change.to_status == S.CONNECTED and change.actor is None
    assert facility_connection_event_record(facility=approved_a, accepted=True) is False
    assert approved_a.status_changes.filter(to_status=S.CONNECTED).count() == 1


def test_rejected_submission_does_not_connect(approved_a):
    assert facility_connection_event_record(facility=approved_a, accepted=False) is False
    approved_a.refresh_from_db()
    assert approved_a.status == S.APPROVED
    assert approved_a.last_contact_at is not None and approved_a.last_accepted_at is None


def test_pending_facility_is_not_connected_by_data(pending_hanoi):
    facility_connection_event_record(facility=pending_hanoi, accepted=True)
    pending_hanoi.refresh_from_db()
    assert pending_hanoi.status == S.PENDING


def test_suspend_and_reinstate_returns_to_connected(officer_hanoi, approved_a):
    facility_connection_event_record(facility=approved_a, accepted=True)
    with pytest.raises(ValidationError):
        services.facility_transition(acting_user=officer_hanoi, facility=approved_a, action="suspend")
    services.facility_transition(acting_user=officer_hanoi, facility=approved_a, action="suspend", reason="Dữ liệu sai")
    facility = services.facility_transition(acting_user=officer_hanoi, facility=approved_a, action="reinstate")
    assert facility.status == S.CONNECTED


def test_reinstate_without_data_returns_to_approved(officer_hanoi, approved_a):
    services.facility_transition(acting_user=officer_hanoi, facility=approved_a, action="suspend", reason="x")
    assert (
        services.facility_transition(acting_user=officer_hanoi, facility=approved_a, action="reinstate").status
        == S.APPROVED
    )


def test_closed_is_final(officer_hanoi, approved_a):
    services.facility_transition(acting_user=officer_hanoi, facility=approved_a, action="close", reason="Giải thể")
    for action in ("approve", "suspend", "reinstate", "close"):
        with pytest.raises(ValidationError):
            services.facility_transition(acting_user=officer_hanoi, facility=approved_a, action=action, reason="x")


def test_approve_twice_refused(officer_hanoi, pending_hanoi):
    services.facility_approve(acting_user=officer_hanoi, facility=pending_hanoi, reason="Hồ sơ đầy đủ")
    with pytest.raises(ValidationError):
        services.facility_approve(acting_user=officer_hanoi, facility=pending_hanoi, reason="Hồ sơ đầy đủ")


def test_history_lists_every_step(officer_hanoi, pending_hanoi):
    services.facility_approve(acting_user=officer_hanoi, facility=pending_hanoi, reason="Hồ sơ đầy đủ")
    facility_connection_event_record(facility=pending_hanoi, accepted=True)
    services.facility_transition(acting_user=officer_hanoi, facility=pending_hanoi, action="suspend", reason="r")
    steps = list(pending_hanoi.status_changes.order_by("at", "pk").values_list("to_status", flat=True))
    assert steps == [S.APPROVED, S.CONNECTED, S.SUSPENDED]


def test_daily_counts_add_up_per_local_day(approved_a):
    base = timezone.make_aware(dt.datetime(2025, 8, 1, 23, 30))  # Vietnam time
    facility_connection_event_record(facility=approved_a, at=base, accepted=True)
    facility_connection_event_record(facility=approved_a, at=base + dt.timedelta(minutes=10), accepted=False)
    facility_connection_event_record(facility=approved_a, at=base + dt.timedelta(minutes=40), accepted=True)
    facility_connection_event_record(facility=approved_a, at=base + dt.timedelta(minutes=50), kind="contact")
    days = {r.day: r for r in FacilityDailyHealth.objects.filter(facility=approved_a)}
    assert (
        days[dt.date(2025, 8, 1)].received,
        days[dt.date(2025, 8, 1)].accepted,
        days[dt.date(2025, 8, 1)].rejected,
    ) == (2, 1, 1)
    assert (days[dt.date(2025, 8, 2)].received, days[dt.date(2025, 8, 2)].accepted) == (1, 1)
    approved_a.refresh_from_db()
    assert approved_a.last_contact_at == base + dt.timedelta(minutes=50)
    assert approved_a.last_accepted_at == base + dt.timedelta(minutes=40)


def test_late_event_does_not_move_last_times_back(approved_a):
    now = timezone.now()
    facility_connection_event_record(facility=approved_a, at=now, accepted=True)
    facility_connection_event_record(facility=approved_a, at=now - dt.timedelta(days=3), accepted=True)
    approved_a.refresh_from_db()
    assert approved_a.last_accepted_at == now
    assert approved_a.first_accepted_at == now - dt.timedelta(days=3)


def test_silent_after_configured_days(approved_a, settings):
    from facilities.health import facility_is_silent, silent_cutoff

    settings.SSKDT_SILENT_AFTER_DAYS = 7
    facility_connection_event_record(facility=approved_a, at=timezone.now() - dt.timedelta(days=8), accepted=True)
    approved_a.refresh_from_db()
    assert facility_is_silent(approved_a)
    assert Facility.objects.silent(cutoff=silent_cutoff()).filter(pk=approved_a.pk).exists()
    settings.SSKDT_SILENT_AFTER_DAYS = 10
    assert not facility_is_silent(approved_a)
    assert not Facility.objects.silent(cutoff=silent_cutoff()).filter(pk=approved_a.pk).exists()


def test_never_sent_counts_from_approval(approved_a):
    from facilities.health import facility_is_silent

    assert not facility_is_silent(approved_a)
    Facility.objects.filter(pk=approved_a.pk).update(approved_at=timezone.now() - dt.timedelta(days=30))
    approved_a.refresh_from_db()
    assert facility_is_silent(approved_a)


@TRANSACTIONAL
def test_concurrent_events_lose_no_count():
    import threading

    from django.db import connection

    facility = f.FacilityFactory(code="01070", province=f.province("01"), status=S.APPROVED, approved_at=timezone.now())
    at = timezone.now()
    errors = []

    def send(n):
        try:
            for _ in range(n):
                facility_connection_event_record(facility=Facility(pk=facility.pk), at=at, accepted=True)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(10,)) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    row = FacilityDailyHealth.objects.get(facility=facility)
    assert (row.received, row.accepted) == (60, 60)
    facility.refresh_from_db()
    assert facility.status == S.CONNECTED
    assert facility.status_changes.filter(to_status=S.CONNECTED).count() == 1
