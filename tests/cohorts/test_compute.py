"""Each criterion of a cohort rule selects the people it says, in one set-based statement per
cohort and province; a run replaces the province's previous members at once and records its time."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cohorts import criteria as rules
from cohorts.models import CohortDefinition, CohortMembership, CohortRun, CohortTotal
from cohorts.selectors import cohort_members, current_version
from cohorts.services import cohort_create, cohort_version_add, memberships_compute
from tests.cohorts.conftest import appointment, checkup, days_ago, facility, immunization, lab, person, today, visit

pytestmark = pytest.mark.django_db


def members(key: str, province: str = "01") -> set[int]:
    return set(cohort_members(current_version(key), province).values_list("citizen_id", flat=True))


def test_shipped_cohorts_select_the_people_they_name(icd10, vaccine_list):
    hn = facility("01101", "01")
    # hypertension, appointment 20 days ago, not seen since: overdue
    htn = person("01", commune="00004")
    visit(htn, hn, days_ago(60), "I10")
    appointment(htn, hn, days_ago(20))
    # hypertension, came back after the appointment: not overdue
    htn_ok = person("01")
    visit(htn_ok, hn, days_ago(60), "I10")
    appointment(htn_ok, hn, days_ago(20))
    visit(htn_ok, hn, days_ago(18), "I10")
    # diabetes as a secondary diagnosis, appointment 10 days ago missed
    dm = person("01")
    visit(dm, hn, days_ago(40), "J06", ["E11.9"])
    appointment(dm, hn, days_ago(10))
    # a chronic patient last seen 400 days ago; another seen 100 days ago
    old = person("01")
    visit(old, hn, days_ago(400), "J44")
    recent = person("01")
    visit(recent, hn, days_ago(100), "J44")
    # pregnant: last check-up 10 weeks ago, delivery ahead; another checked 2 weeks ago
    preg = person("01", sex=2, born=dt.date(1995, 1, 1))
    checkup(preg, hn, days_ago(70), due=today() + dt.timedelta(days=100))
    preg_ok = person("01", sex=2, born=dt.date(1996, 1, 1))
    checkup(preg_ok, hn, days_ago(14), due=today() + dt.timedelta(days=150))
    # a child of 1 year without any vaccine: overdue (BCG at birth); another in province 79
    child = person("01", born=today() - dt.timedelta(days=400))
    child_79 = person("79", born=today() - dt.timedelta(days=400))
    # a child given every dose due so far is not overdue for BCG dose 1
    vaccinated = person("01", born=today() - dt.timedelta(days=400))
    immunization(vaccinated, hn, "TCMR-BCG", days_ago(398))

    runs = memberships_compute()

    assert members("hypertension-follow-up-missed") == {htn.pk}
    assert members("diabetes-follow-up-missed") == {dm.pk}
    assert members("hypertension-diabetes-follow-up-missed") == {htn.pk, dm.pk}
    assert members("chronic-not-seen-12-months") == {old.pk}
    assert members("pregnant-no-checkup-8-weeks") == {preg.pk}
    assert child.pk in members("children-vaccine-overdue")
    assert members("children-vaccine-overdue", "79") == {child_79.pk}
    # one cohort per dose of the schedule, from the vaccine list in force
    bcg = [k for k in CohortDefinition.objects.values_list("key", flat=True) if k.startswith("vaccine-tcmr-bcg-")]
    assert bcg
    assert members(bcg[0]) == {child.pk}
    # the facility of the last visit and the commune of residence travel with the member
    row = CohortMembership.objects.get(version=current_version("hypertension-follow-up-missed"), citizen=htn)
    assert (row.commune_code, row.facility_id) == ("00004", hn.pk)
    # a run per province and one for the nation, each with its time
    national = [r for r in runs if r.province_id is None]
    assert len(national) == 1 and national[0].duration_ms is not None
    assert national[0].members == sum(r.members for r in runs if r.province_id)
    assert CohortRun.objects.filter(province__code="01", duration_ms__isnull=False).count() == 1


def test_other_criteria_age_sex_commune_lab(icd10):
    hn = facility("01101", "01")
    woman = person("01", commune="00004", sex=2, born=today() - dt.timedelta(days=365 * 50))
    lab(woman, hn, days_ago(5), "HBA1C", "H")
    man = person("01", commune="00004", sex=1, born=today() - dt.timedelta(days=365 * 50))
    lab(man, hn, days_ago(5), "HBA1C", "H")
    young = person("01", commune="00004", sex=2, born=today() - dt.timedelta(days=365 * 20))
    lab(young, hn, days_ago(5), "HBA1C", "L")
    elsewhere = person("01", commune="00007", sex=2, born=today() - dt.timedelta(days=365 * 50))
    lab(elsewhere, hn, days_ago(5), "HBA1C", "H")
    normal = person("01", commune="00004", sex=2, born=today() - dt.timedelta(days=365 * 50))
    lab(normal, hn, days_ago(5), "HBA1C", "")
    cohort_create(
        key="women-40-60-hba1c",
        name="Phụ nữ 40–60 tuổi HbA1c bất thường",
        criteria={
            "sex": [2],
            "age_min": 40,
            "age_max": 60,
            "age_unit": "year",
            "residence_communes": ["00004"],
            "lab_out_of_range": {"indicators": ["HBA1C"], "within_days": 30},
        },
    )
    memberships_compute(provinces=["01"])
    assert members("women-40-60-hba1c") == {woman.pk}


def test_a_run_replaces_the_previous_members_and_keeps_counts_for_the_trend(icd10):
    hn = facility("01101", "01")
    old = person("01")
    visit(old, hn, days_ago(400), "I10")
    memberships_compute(provinces=["01"])
    assert members("chronic-not-seen-12-months") == {old.pk}
    visit(old, hn, days_ago(3), "I10")  # came back
    memberships_compute(provinces=["01"])
    assert members("chronic-not-seen-12-months") == set()
    version = current_version("chronic-not-seen-12-months")
    totals = CohortTotal.objects.filter(version=version, dimension=CohortTotal.ALL)
    assert sorted(totals.values_list("members", flat=True)) == [1]  # the first run's; the second has none
    assert CohortRun.objects.filter(province__code="01").count() == 2


def test_one_statement_per_cohort_whatever_the_number_of_people(icd10):
    hn = facility("01101", "01")

    def statements() -> int:
        with CaptureQueriesContext(connection) as ctx:
            memberships_compute(provinces=["01"])
        return sum(1 for q in ctx.captured_queries if q["sql"].startswith("INSERT INTO cohorts_cohortmembership"))

    few = statements()
    for _ in range(20):
        visit(person("01"), hn, days_ago(400), "I10")
    assert statements() == few == CohortDefinition.objects.filter(active=True).count()


def test_editing_adds_a_version_and_the_job_uses_the_newest(icd10):
    hn = facility("01101", "01")
    p = person("01")
    visit(p, hn, days_ago(200), "I10")
    definition = CohortDefinition.objects.get(key="chronic-not-seen-12-months")
    first = definition.versions.get()
    cohort_version_add(
        definition=definition,
        name="Không khám 6 tháng",
        criteria={"diagnosis_groups": ["chronic"], "last_visit_before_days": 180},
    )
    memberships_compute(provinces=["01"])
    assert members("chronic-not-seen-12-months") == {p.pk}
    first.refresh_from_db()
    assert first.criteria == {"diagnosis_groups": ["chronic"], "last_visit_before_days": 365}  # untouched
    assert current_version("chronic-not-seen-12-months").number == 2


@pytest.mark.parametrize(
    "criteria",
    [
        {},
        {"colour": "red"},
        {"diagnosis_codes": ["I10'; DROP TABLE x; --"]},
        {"age_min": 5},
        {"age_min": 10, "age_max": 5, "age_unit": "year"},
        {"sex": [4]},
        {"residence_communes": ["1"]},
        {"last_visit_before_days": "365"},
        {"vaccine_overdue": {"vaccine": "BCG", "position": 0}},
        {"lab_out_of_range": {"indicators": ["HBA1C"]}},
        {"diagnosis_groups": ["no-such-group"]},
    ],
)
def test_invalid_criteria_are_refused_with_a_message(icd10, criteria):
    with pytest.raises(ValidationError):
        rules.validate(criteria)


def test_values_are_parameters_never_sql_text():
    sql, params = rules.compile_members(
        {"diagnosis_codes": ["I10"], "residence_communes": ["00004"], "sex": [2]}, today=today()
    )
    assert "I10" not in sql and "00004" not in sql
    assert params["dx"] == ["I10%"] and params["communes"] == ["00004"]


def test_the_command_computes(icd10, capsys):
    call_command("cohorts_compute", "--province", "01")
    assert "01:" in capsys.readouterr().out


def test_a_run_stores_its_totals_in_all_by_commune_and_by_facility(icd10):
    """What the pages read: one row per cohort in all, per commune (unknown commune: ""), per
    facility of last visit; each set adds up to the members."""
    a, b = facility("01101", "01"), facility("01102", "01")
    for _ in range(3):
        visit(person("01", commune="00004"), a, days_ago(400), "I10")
    for _ in range(2):
        visit(person("01", commune="00007"), b, days_ago(400), "E11")
    visit(person("01"), b, days_ago(400), "I10")
    run = memberships_compute(provinces=["01"])[0]
    version = current_version("chronic-not-seen-12-months")
    rows = CohortTotal.objects.filter(run=run, version=version)
    assert list(rows.filter(dimension=CohortTotal.ALL).values_list("members", flat=True)) == [6]
    assert dict(rows.filter(dimension=CohortTotal.COMMUNE).values_list("commune_code", "members")) == {
        "00004": 3,
        "00007": 2,
        "": 1,
    }
    assert dict(rows.filter(dimension=CohortTotal.FACILITY).values_list("facility_id", "members")) == {
        a.pk: 3,
        b.pk: 3,
    }
    assert run.members == sum(
        CohortTotal.objects.filter(run=run, dimension=CohortTotal.ALL).values_list("members", flat=True)
    )


def test_a_members_last_visit_is_kept_by_the_run_for_the_line_list(icd10):
    """The job keeps the day of each member's last visit with the membership (the line list's "last
    contact", one query for any number of people); someone a later run took out of the cohort still
    gets theirs, from the book."""
    from publichealth import cohorts_port

    fac = facility("01101", "01")
    member = person("01", commune="00004")
    visit(member, fac, days_ago(500), "I10")
    visit(member, fac, days_ago(400), "I10")
    memberships_compute(provinces=["01"])
    version = current_version("chronic-not-seen-12-months")
    ref = cohorts_port.CohortRef(version.pk, version.definition.key, version.name)
    with CaptureQueriesContext(connection) as ctx:
        assert cohorts_port.member_details(ref, [member.pk]) == {member.pk: (version.name, days_ago(400))}
    assert len(ctx.captured_queries) == 1
    visit(member, fac, days_ago(3), "I10")  # seen again: the next run takes them out
    memberships_compute(provinces=["01"])
    assert cohorts_port.member_details(ref, [member.pk]) == {member.pk: (version.name, days_ago(3))}
