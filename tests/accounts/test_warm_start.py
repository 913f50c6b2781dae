"""A warm `make run` does no work already done (issue 18, point 7): demo steps already applied
are skipped (their fingerprint recorded), rollup days already computed are not recomputed, and
the preparation runs no migration when none is pending."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.management.commands import seed_demo
from accounts.models import DemoStepApplied
from facilities.models import Facility
from provinces.models import ProvinceDayRollup
from provinces.rollups import rollup_days_computed, rollups_compute_missing

pytestmark = pytest.mark.django_db


def test_rollup_days_already_computed_are_not_recomputed():
    today = timezone.localdate()
    start = today - dt.timedelta(days=9)
    first = rollups_compute_missing(start=start, end=today)
    assert [(r.start, r.end) for r in first] == [(start, today)]
    assert set(rollup_days_computed(start=start, end=today)) == {start + dt.timedelta(days=i) for i in range(10)}
    # A warm start a moment later: nothing (past days final, today fresh).
    assert rollups_compute_missing(start=start, end=today) == []
    # A hole is filled, as its own range; a day computed before it ended (the machine was off
    # overnight) is computed again, and so is today once older than the 15-minute job's period.
    hole = today - dt.timedelta(days=5)
    yesterday = today - dt.timedelta(days=1)
    ProvinceDayRollup.objects.filter(day=hole).delete()
    ProvinceDayRollup.objects.filter(day=yesterday).update(
        computed_at=timezone.make_aware(dt.datetime.combine(yesterday, dt.time(12)))
    )
    ProvinceDayRollup.objects.filter(day=today).update(computed_at=timezone.now() - dt.timedelta(minutes=20))
    assert [(r.start, r.end) for r in rollups_compute_missing(start=start, end=today)] == [
        (hole, hole),
        (yesterday, today),
    ]


def test_demo_steps_already_applied_are_skipped_until_they_change(settings, monkeypatch):
    settings.DEBUG = True
    steps = [("facilities_demo", []), ("rollups", ["--days", "3", "--missing"])]
    monkeypatch.setattr(seed_demo, "DEMO_STEPS", steps)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "facilities_demo: already applied" not in out.getvalue()
    assert set(DemoStepApplied.objects.values_list("name", flat=True)) == {"facilities_demo"}  # rollups: always run
    facilities = Facility.objects.count()

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "facilities_demo: already applied, skipped." in out.getvalue()
    assert "rollups: " in out.getvalue()  # always run: it skips the days already computed itself
    assert Facility.objects.count() == facilities

    # A changed step (here its arguments; its source counts too) runs again.
    DemoStepApplied.objects.filter(name="facilities_demo").update(fingerprint="older")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "facilities_demo: already applied" not in out.getvalue()


def test_the_preparation_migrates_nothing_when_nothing_is_pending(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setattr(seed_demo, "DEMO_STEPS", [])
    out = io.StringIO()
    call_command("prepare_local", stdout=out)
    text = out.getvalue()
    assert "No migration to apply." in text
    for step in ("migrate", "cache table", "demo data"):
        assert f"[make run] {step}: " in text
