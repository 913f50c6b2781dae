"""The rollups: set-based, idempotent, and each column means what docs/dashboards.md says."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from facilities.models import Facility, FacilityStatus
from provinces.models import FacilityDayRollup, ProvinceDayRollup, RejectionReasonDay
from tests.provinces.conftest import at, citizen, compute, facility, health, today

pytestmark = pytest.mark.django_db


def _row(code: str, day: dt.date | None = None) -> ProvinceDayRollup:
    return ProvinceDayRollup.objects.get(province__code=code, day=day or today())


def _fac(fac, day=None) -> FacilityDayRollup:
    return FacilityDayRollup.objects.get(facility=fac, day=day or today())


def test_one_row_per_province_and_day(hanoi_network):
    compute(today() - dt.timedelta(days=2))
    assert ProvinceDayRollup.objects.count() == 34 * 3
    assert ProvinceDayRollup.objects.filter(day=today()).count() == 34


def test_rerun_gives_the_same_rows(hanoi_network):
    compute(today() - dt.timedelta(days=5))
    fields = [f.name for f in ProvinceDayRollup._meta.fields if f.name not in ("id", "computed_at")]
    before = list(ProvinceDayRollup.objects.order_by("province_id", "day").values(*fields))
    fac_before = list(FacilityDayRollup.objects.order_by("facility_id", "day").values_list("id", "is_silent"))
    compute(today() - dt.timedelta(days=5))
    assert list(ProvinceDayRollup.objects.order_by("province_id", "day").values(*fields)) == before
    assert list(FacilityDayRollup.objects.order_by("facility_id", "day").values_list("id", "is_silent")) == fac_before


def test_books_total_new_and_valid_cards(hanoi_network):
    compute(today() - dt.timedelta(days=1))
    row = _row("01")
    assert (row.books_total, row.books_new) == (4, 1)
    assert row.citizens_valid_card == 3  # the fourth card expired 35 days ago
    assert _row("01", today() - dt.timedelta(days=1)).books_total == 3
    assert _row("79").books_total == 1 and _row("79").citizens_valid_card == 1
    # the citizen without a province of residence is in no province
    assert ProvinceDayRollup.objects.filter(day=today()).aggregate(n=Sum("books_total"))["n"] == 5


def test_facilities_by_status_and_ownership(hanoi_network):
    compute()
    row = _row("01")
    assert (row.facilities_connected, row.facilities_pending) == (2, 1)
    assert (row.facilities_public_connected, row.facilities_private_connected) == (1, 1)
    assert (row.facilities_public_active, row.facilities_private_active) == (1, 1)


def test_status_on_a_past_day_follows_the_history(db):
    fac = facility("01201", "01", status=FacilityStatus.CONNECTED, since_days=10)
    compute(today() - dt.timedelta(days=12))
    assert not FacilityDayRollup.objects.filter(facility=fac, day=today() - dt.timedelta(days=11)).exists()
    assert _fac(fac, today() - dt.timedelta(days=9)).status == FacilityStatus.PENDING
    assert _fac(fac, today() - dt.timedelta(days=7)).status == FacilityStatus.APPROVED
    assert _fac(fac).status == FacilityStatus.CONNECTED


def test_sending_windows_and_days_with_data(hanoi_network):
    compute()
    busy, quiet = _fac(hanoi_network["busy"]), _fac(hanoi_network["quiet"])
    assert (busy.sent_7d, busy.sent_30d, busy.days_with_data_30d) == (True, True, 30)
    assert (busy.received_7d, busy.rejected_7d, busy.accepted_30d) == (70, 7, 270)
    assert (quiet.sent_7d, quiet.sent_30d, quiet.days_with_data_30d) == (False, True, 20)
    assert _row("01").facilities_sending_7d == 1 and _row("01").facilities_sending_30d == 2


def test_silent_matches_the_registry_rule(hanoi_network):
    compute()
    # The registry's rule with the cutoff at the start of the 7-day window ending today.
    cutoff = at(today() - dt.timedelta(days=6), 0)
    expected = set(Facility.objects.silent(cutoff=cutoff).values_list("pk", flat=True))
    assert expected == {hanoi_network["quiet"].pk}
    assert (
        set(FacilityDayRollup.objects.filter(day=today(), is_silent=True).values_list("facility", flat=True))
        == expected
    )
    assert _row("01").facilities_silent == 1


def test_went_silent_only_on_the_first_silent_day(hanoi_network):
    compute(today() - dt.timedelta(days=10))
    flagged = list(
        FacilityDayRollup.objects.filter(facility=hanoi_network["quiet"], went_silent=True).values_list(
            "day", flat=True
        )
    )
    # last accepted 10 days ago; silent once 7 whole days passed without accepted data
    assert flagged == [today() - dt.timedelta(days=3)]


def test_rejection_jump_flagged_once(db):
    fac = facility("01301", "01")
    d = today()
    for back in range(14, 7, -1):
        health(fac, d - dt.timedelta(days=back), received=10, rejected=0)
    for back in range(7, -1, -1):
        health(fac, d - dt.timedelta(days=back), received=10, rejected=6)
    compute(d - dt.timedelta(days=7))
    jumped = list(FacilityDayRollup.objects.filter(facility=fac, rejection_jumped=True).values_list("day", flat=True))
    assert len(jumped) == 1
    row = _fac(fac)
    assert (row.received_7d, row.rejected_7d) == (70, 42)
    assert (row.received_prev_7d, row.rejected_prev_7d) == (70, 6)


def test_submission_counts_are_the_day_sums(hanoi_network):
    compute()
    row = _row("01")
    assert (row.submissions_received, row.submissions_accepted, row.submissions_rejected) == (10, 9, 1)


def test_card_batch_rejection_reasons_by_day(db):
    from healthbook.models import CardBatch

    CardBatch.objects.create(
        sha256="a" * 64,
        file="x.csv",
        original_name="x.csv",
        size_bytes=1,
        file_format="csv",
        status=CardBatch.Status.DONE,
        finished_at=timezone.now(),
        rows_read=5,
        rows_rejected=5,
        problem_counts={"SIN_FORMAT": 3, "REQUIRED": 2, "FACILITY_UNKNOWN": 9},
    )
    compute()
    reasons = dict(RejectionReasonDay.objects.values_list("code", "count"))
    assert reasons == {"SIN_FORMAT": 3, "REQUIRED": 2}  # warnings are not rejections


def test_backfill_command(hanoi_network, capsys):
    start = today() - dt.timedelta(days=40)
    call_command("rollups", "--backfill", start.strftime("%d/%m/%Y"), today().isoformat())
    assert ProvinceDayRollup.objects.filter(province__code="01").count() == 41
    assert "province-days" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args",
    [
        ["--backfill", "31/02/2025", "01/03/2025"],
        ["--backfill", "02/03/2025", "01/03/2025"],
        ["--backfill", "01/01/2025", "01/01/2999"],
    ],
)
def test_backfill_refuses_bad_dates(db, args):
    with pytest.raises(CommandError):
        call_command("rollups", *args)


def test_citizen_helper_builds_a_book(db):
    person = citizen("01")
    assert person.book.created_at.date() <= timezone.now().date()


def test_visits_received_count_new_encounters_of_the_day(db):
    from tests.provinces.conftest import encounter

    fac = facility("01501", "01")
    person = citizen("01")
    encounter(person, fac, today() - dt.timedelta(days=20))  # recorded today, whatever the visit date
    encounter(person, fac, today())
    compute()
    assert _fac(fac).visits_received == 2
    assert _row("01").visits_received == 2


def test_people_using_count_visits_in_the_last_365_days(db):
    from tests.provinces.conftest import encounter

    fac = facility("01502", "01")
    recent, old, never = citizen("01"), citizen("01"), citizen("01")
    encounter(recent, fac, today() - dt.timedelta(days=100))
    encounter(old, fac, today() - dt.timedelta(days=400))
    compute(today() - dt.timedelta(days=1))
    assert _row("01").people_using == 1
    assert never.book and _row("79").people_using == 0


def test_people_using_on_a_past_day(db):
    from tests.provinces.conftest import encounter

    fac = facility("01503", "01")
    person = citizen("01")
    encounter(person, fac, today() - dt.timedelta(days=5))
    compute(today() - dt.timedelta(days=7))
    assert _row("01", today() - dt.timedelta(days=6)).people_using == 0
    assert _row("01", today() - dt.timedelta(days=5)).people_using == 1


def test_missed_follow_ups(db):
    from tests.provinces.conftest import appointment, encounter

    fac = facility("01504", "01")
    missed, kept, upcoming = citizen("01"), citizen("01"), citizen("01")
    appointment(missed, fac, today() - dt.timedelta(days=10))
    appointment(kept, fac, today() - dt.timedelta(days=10))
    encounter(kept, fac, today() - dt.timedelta(days=9))
    appointment(upcoming, fac, today() + dt.timedelta(days=2))
    compute(today() - dt.timedelta(days=10))
    assert _row("01").followups_missed == 1
    assert _row("01", today() - dt.timedelta(days=9)).followups_missed == 1  # kept came back that very day
    assert _row("01", today() - dt.timedelta(days=10)).followups_missed == 0  # not passed yet


def test_submission_rejection_reasons_add_up_to_the_rejected_count(db):
    """One rule (issue 18): each rejected submission is counted once, under its first error, on
    the same daily row as the rejected count the trend shows; the reasons add up to it."""
    from facilities.health import ConnectionEvent, facility_connection_events_record

    fac = facility("01505", "01")
    now = at(today(), 9)
    events = [
        ConnectionEvent(facility_id=fac.pk, at=now, reason="XML_SCHEMA"),
        ConnectionEvent(facility_id=fac.pk, at=now, reason="XML_SCHEMA"),
        ConnectionEvent(facility_id=fac.pk, at=now, reason="SIG_MISSING"),
        ConnectionEvent(facility_id=fac.pk, at=now, accepted=True),
    ]
    facility_connection_events_record(events=events[:2])
    facility_connection_events_record(events=events[2:])  # a second upsert merges the reasons
    # A day counted before reasons were kept: its rejections are listed, without a reason.
    health(fac, today() - dt.timedelta(days=1), received=4, rejected=3)
    compute(today() - dt.timedelta(days=1))
    rows = set(RejectionReasonDay.objects.filter(source="submission").values_list("day", "code", "count"))
    assert rows == {
        (today(), "XML_SCHEMA", 2),
        (today(), "SIG_MISSING", 1),
        (today() - dt.timedelta(days=1), "UNRECORDED", 3),
    }
    assert _row("01").submissions_rejected == 3
    assert _row("01", today() - dt.timedelta(days=1)).submissions_rejected == 3
    compute(today() - dt.timedelta(days=1))  # recomputing leaves no stale reason behind
    assert RejectionReasonDay.objects.filter(source="submission").count() == 3
