"""The `make run` demo content is plausible (issue 18, point 4): diagnoses fit age and sex, lab
values are mostly in range in the code list's units with some out of range, nothing is dated in
the future, histories cross facilities and provinces, a pregnancy is followed at two
facilities, a child is vaccinated on the schedule, and the follow-up lists of issue 20 have
members. Pure Python: the generator, without the database (test_demo_seed.py sends it)."""

import random
from datetime import date, datetime, timedelta

import pytest

from healthbook.intake.demo import clinical, stories

TODAY = date(2026, 12, 6)
PROVINCE_OF_ROLE = {"hn": "01", "hn_station": "01", "hcm": "79", "dn": "48"}
ADULT_ONLY = ("E11", "I10", "I25", "J44", "E78", "M17")


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _background(n=300, seed=6):
    rng = random.Random(seed)
    people = []
    for i in range(n):
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 365 * 96))
        person = {"n": i, "female": rng.random() < 0.5, "born": born}
        people.append((person, clinical.background_visits(rng, person, TODAY, ["hn", "hcm", "hn_station", "dn"])))
    return people


def _all_visits():
    for p in stories.stories(TODAY):
        for role, when, visit in p.visits:
            yield {"female": p.female, "born": p.born}, role, when, visit
    for person, visits in _background():
        for role, when, visit in visits:
            yield person, role, when, visit


def test_diagnoses_fit_age_and_sex():
    seen = 0
    for person, _role, when, visit in _all_visits():
        age = _age(person["born"], when.date())
        assert clinical.plausible(visit["code"], age, person["female"]), (visit["code"], age)
        if age < 18:
            assert not visit["code"].startswith(ADULT_ONLY), (visit["code"], age)  # no type 2 diabetes at 4
        if visit["code"].startswith("O"):
            assert person["female"] and 15 <= age <= 49
        seen += 1
    assert seen > 500


def test_nothing_is_dated_in_the_future():
    now = datetime.combine(TODAY, datetime.min.time())
    for _person, _role, when, _visit in _all_visits():
        assert when < now
    for p in stories.stories(TODAY):
        assert all(when < now for _r, when, *_ in p.vaccines + p.checkups)
        assert p.born < TODAY


def test_lab_values_are_mostly_in_range_in_the_code_lists_units():
    rng = random.Random(1)
    indicators = clinical.lab_indicators()
    inside = outside = 0
    for person, _role, _when, visit in _all_visits():
        for code, _name, unit, value in clinical.lab_panel(
            visit["panel"], person["female"], rng, out_of_range=visit["out"]
        ):
            assert unit == indicators[code]["unit"]
            low, high = indicators[code]["ranges"]["F" if person["female"] else "M"]
            v = float(value)
            assert v > 0
            if (low is None or v >= low) and (high is None or v <= high):
                inside += 1
            else:
                outside += 1
                assert high is None or v < high * 2.5  # out of range, not absurd (no cholesterol 124 mmol/L)
    assert outside > 0 and inside > 4 * outside


def test_histories_cross_facilities_and_provinces():
    crossing = 0
    for p in stories.stories(TODAY):
        roles = {r for r, *_ in p.visits + p.vaccines + p.checkups}
        if len(roles) >= 2 and len({PROVINCE_OF_ROLE[r] for r in roles}) >= 2:
            crossing += 1
    for _person, visits in _background():
        roles = {r for r, *_ in visits}
        if len(roles) >= 2 and len({PROVINCE_OF_ROLE[r] for r in roles}) >= 2:
            crossing += 1
    assert crossing >= 20


def test_a_pregnancy_at_two_facilities_and_a_child_vaccinated_on_schedule():
    people = {p.key: p for p in stories.stories(TODAY)}
    pregnancy = people["pregnancy"]
    assert len({role for role, *_ in pregnancy.checkups}) == 2
    assert [weeks for _r, _w, weeks, _lmp in pregnancy.checkups] == sorted(w for _r, _w, w, _l in pregnancy.checkups)
    child = people["child"]
    given = {(code, dose): when.date() for _r, when, code, dose in child.vaccines}
    due = [d for d in clinical.vaccine_schedule() if d.age_days <= 400]
    assert due and all((d.code, d.dose) in given for d in due)
    for d in due:  # on time: within two weeks of the age the schedule says
        assert 0 <= (given[(d.code, d.dose)] - child.born).days - d.age_days <= 14
    assert people["child"].age(TODAY) == 1 and people["child"].seen_at("hn")


@pytest.mark.parametrize(
    ("key", "check"),
    [
        # hypertension patient whose last follow-up date has passed with no visit since
        ("htn_overdue", lambda p: _overdue(p, "I10")),
        ("dm_overdue", lambda p: _overdue(p, "E11.9")),
        # a child past the age of a dose not given
        ("child_overdue", lambda p: _dose_overdue(p)),
        # a pregnant woman without a check-up for 8 weeks
        ("pregnancy_late", lambda p: (TODAY - max(w for _r, w, *_ in p.checkups).date()).days > 56),
        # a chronic patient not seen for 12 months
        ("lost", lambda p: (TODAY - max(w for _r, w, _v in p.visits).date()).days > 365),
        # the same lists in Hà Nội (issue 20: its officer sees every shipped cohort)
        ("htn_overdue_hn", lambda p: _overdue(p, "I10") and p.province == "01"),
        ("dm_overdue_hn", lambda p: _overdue(p, "E11.9") and p.province == "01"),
        ("pregnancy_late_hn", lambda p: (TODAY - max(w for _r, w, *_ in p.checkups).date()).days > 56),
        ("lost_hn", lambda p: (TODAY - max(w for _r, w, _v in p.visits).date()).days > 365 and p.province == "01"),
    ],
)
def test_the_follow_up_lists_have_members(key, check):
    person = {p.key: p for p in stories.stories(TODAY)}[key]
    assert check(person)


def _overdue(p, code) -> bool:
    visits = sorted((when, v) for _r, when, v in p.visits if v["code"] == code)
    when, last = visits[-1]
    return bool(last["follow_up_days"]) and (when + timedelta(days=last["follow_up_days"])).date() < TODAY - timedelta(
        days=14
    )


def _dose_overdue(p) -> bool:
    given = {(code, dose) for _r, _w, code, dose in p.vaccines}
    age_days = (TODAY - p.born).days
    return any((d.code, d.dose) not in given and d.age_days + 30 < age_days for d in clinical.vaccine_schedule())


def test_the_banner_names_generated_people_with_and_without_care_relationship():
    lines = stories.banner_lines()
    text = "\n".join(lines)
    for p in stories.stories(date.today()):
        assert p.name in text
    assert "mở được" in text and "chỉ truy cập khẩn cấp" in text
    for p in stories.stories(TODAY):  # generated IDs: the 99xxxx serials of the demo stories
        assert p.as_citizen(1)["pid"][6:9] == "990"
