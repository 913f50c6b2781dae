"""The demo as `make run` loads it (issue 18, point 4), through the real intake path: the named
people and a few card-batch citizens end in books with histories across facilities and
provinces, with nothing in the future, no diagnosis the intake finds implausible for age or
sex, books created over months, and demo "last contact" times never ahead of now. The search
finds the demo patients the README names, with and without a care relationship."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min
from django.urls import reverse
from django.utils import timezone

from facilities.models import Facility
from healthbook.intake.demo import stories
from healthbook.models import (
    Citizen,
    Encounter,
    HealthBook,
    Immunization,
    PregnancyCheckup,
    Submission,
    SubmissionProblem,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    out = io.StringIO()
    call_command("facilities_demo", stdout=out)
    call_command("load_codelists", stdout=out)
    call_command("seed_demo_cards", "--rows", "200", stdout=out, stderr=out)
    call_command("seed_demo_submissions", "--citizens", "30", stdout=out)
    return out.getvalue()


def test_the_demo_as_make_run_loads_it(demo, login):
    """One seeding (it takes a while), four checks."""
    _enters_through_the_intake_and_is_plausible()
    _the_named_demo_people_have_their_stories()
    _books_are_created_over_months_never_after_their_first_visit()
    _the_search_finds_the_readmes_patients_with_and_without_care_relationship(login)
    _a_second_run_sends_nothing()


def _enters_through_the_intake_and_is_plausible():
    assert Submission.objects.filter(status__in=Submission.FINAL[:2]).count() >= 8
    assert Encounter.objects.values("book").distinct().count() >= 30  # the named people and the card citizens
    assert not Submission.objects.exclude(status__in=Submission.FINAL[:2]).exists()
    codes = set(SubmissionProblem.objects.values_list("code", flat=True))
    assert not {c for c in codes if c.startswith("ICD10")}, codes  # no age or sex the annexes refuse
    now = timezone.now()
    assert not Encounter.objects.filter(occurred_at__gt=now).exists()
    assert not Facility.objects.filter(last_contact_at__gt=now).exists()  # was 8 hours ahead

    crossing = (
        Encounter.objects.values("book_id")
        .annotate(f=Count("facility", distinct=True), p=Count("facility__province", distinct=True))
        .filter(f__gte=2, p__gte=2)
        .count()
    )
    assert crossing >= 5


def _the_named_demo_people_have_their_stories():
    today = timezone.localdate()
    named = {p.key: p for p in stories.stories(today)}
    books = {
        c.full_name: c.book
        for c in Citizen.objects.filter(full_name__in=[p.name for p in named.values()]).select_related("book")
    }
    assert set(books) == {p.name for p in named.values()}
    pregnancy = books[named["pregnancy"].name]
    assert PregnancyCheckup.objects.filter(book=pregnancy).values("facility").distinct().count() == 2
    child = books[named["child"].name]
    assert Immunization.objects.filter(book=child).count() >= 8
    chronic = Encounter.objects.filter(book=books[named["chronic"].name])
    assert chronic.filter(main_diagnosis="I10").count() >= 10
    assert chronic.values("facility__province").distinct().count() == 2


def _books_are_created_over_months_never_after_their_first_visit():
    spread = HealthBook.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert (spread["last"] - spread["first"]).days > 90
    first_visit = Encounter.objects.values("book_id").annotate(at=Min("occurred_at"))
    created = dict(HealthBook.objects.values_list("pk", "created_at"))
    assert all(created[row["book_id"]] <= row["at"] for row in first_visit)


def _the_search_finds_the_readmes_patients_with_and_without_care_relationship(login):
    from accounts.models import User

    client = login(User.objects.get(username="bs.an"))
    today = timezone.localdate()
    for person in stories.stories(today):
        body = client.post(
            reverse("citizen-search"), {"q": person.name, "birth_year": person.born.year}
        ).content.decode()
        assert person.name in body
        expected = "Có quan hệ khám chữa bệnh" if person.seen_at("hn") else "Chưa có quan hệ khám chữa bệnh"
        assert expected in body, person.name


def _a_second_run_sends_nothing():
    before = Submission.objects.count()
    out = io.StringIO()
    call_command("seed_demo_submissions", stdout=out)
    assert Submission.objects.count() == before and "already loaded" in out.getvalue()
