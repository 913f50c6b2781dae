"""Several queued submissions of one facility processed by one run (healthbook/intake/processing.py):
each keeps its own status, problems and exactly-once merge, and the outcome is the one of
processing them one by one."""

import copy
import random
from datetime import datetime, timedelta

import pytest
from django.db import OperationalError
from django.test import override_settings

from facilities.models import FacilityDailyHealth
from healthbook.intake import processing
from healthbook.intake.demo.submissions import build_envelope, load_seed, make_citizen, make_visit
from healthbook.intake.processing import submission_process
from healthbook.models import Citizen, Encounter, EncounterHistory, LabObservation, Submission

from .conftest import make_sender, sign

pytestmark = pytest.mark.django_db


def _scenario(facility_code: str, leaf, spec, today, seed: int) -> list[tuple[str, bytes]]:
    """(label, body) in sending order: new people, an exact resend, a changed visit, an unsigned
    file, a known person under another name, and a treatment key reused for someone else."""
    rng = random.Random(seed)
    icd, labs = load_seed()
    people = [make_citizen(rng, n) for n in (1, 2, 3)]
    at = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=8)

    def visit(person, k, n_labs=3):
        return make_visit(rng, person, facility_code, k, at, icd, labs, n_labs, 2)

    first = [visit(people[0], 1), visit(people[0], 2)]
    second = [visit(people[1], 1)]
    changed = copy.deepcopy(first[:1])
    changed[0]["XML4"][0]["GIA_TRI"] = "99.99"
    renamed = [visit(people[1], 2)]
    renamed[0]["XML1"][0]["HO_TEN"] = "Tên Khác Hẳn"
    reused = [visit(people[2], 1)]
    for rows in reused[0].values():
        for row in rows:
            if "MA_LK" in row:
                row["MA_LK"] = first[1]["XML1"][0]["MA_LK"]

    def signed(visits):
        return sign(build_envelope(facility_code, visits, today, spec), leaf)

    one = signed(first)
    return [
        ("new", one),
        ("other person", signed(second)),
        ("resent", one),
        ("changed", signed(changed)),
        ("unsigned", build_envelope(facility_code, second, today, spec)),
        ("renamed", signed(renamed)),
        ("key reused", signed(reused)),
    ]


def _outcome(subs: list[Submission], facility_code: str) -> list[tuple]:
    """What processing decided for each submission, without ids or facility-specific keys."""
    out = []
    for s in subs:
        s.refresh_from_db()
        problems = sorted(
            (p.code, p.severity, p.table, p.field, p.record_key.replace(facility_code, "F")[-5:])
            for p in s.problems.all()
        )
        dup = next((i for i, o in enumerate(subs) if o.pk == s.duplicate_of_id), None)
        counts = (s.encounters_created, s.encounters_updated, s.encounters_unchanged, s.visits_count)
        out.append((s.status, *counts, dup, problems))
    return out


def _send(sender, scenario) -> list[Submission]:
    subs = []
    for _label, body in scenario:
        response = sender.post(body)
        assert response.status_code == 202
        subs.append(Submission.objects.get(public_id=response.json()["id"]))
    return subs


def test_a_batch_decides_as_one_by_one(facility_a, facility_b, pki, spec, today, intake_codelists):
    one_by_one = make_sender(facility_a, pki)
    batched = make_sender(facility_b, {"valid": pki["other"]})
    # the same story at two facilities with different people: one by one at A ...
    with override_settings(INTAKE_BATCH_SIZE=1):
        scenario = _scenario("01001", pki["valid"], spec, today, seed=11)
        subs_a = _send(one_by_one, scenario)
        for s in subs_a:
            assert submission_process(submission_id=s.pk) is not None
    # ... in one run at B: the first task processes all seven; the others find them claimed
    subs_b = _send(batched, _scenario("79001", pki["other"], spec, today, seed=12))
    assert submission_process(submission_id=subs_b[0].pk) is not None
    assert all(submission_process(submission_id=s.pk) is None for s in subs_b[1:])

    expected = _outcome(subs_a, "01001")
    assert _outcome(subs_b, "79001") == expected
    status = {label: o for (label, _b), o in zip(scenario, expected, strict=True)}
    assert status["new"][1] == 2 and status["other person"][1] == 1
    assert status["resent"][3] == 2 and status["resent"][5] == 0  # unchanged, duplicate of the first
    assert status["changed"][2] == 1  # a new version
    assert status["unsigned"][0] == "rejected" and status["unsigned"][6][0][0] == "SIG_MISSING"
    assert status["renamed"][0] == "held" and status["renamed"][1] == 1  # counted as if attached; not attached
    assert any(p[0] == "PATIENT_NAME_MISMATCH" for p in status["renamed"][6])
    assert status["key reused"][0] == "rejected"
    assert any(p[0] == "ENCOUNTER_OTHER_PATIENT" for p in status["key reused"][6])
    for facility in (facility_a, facility_b):
        assert Encounter.objects.filter(facility=facility).count() == 3
        assert EncounterHistory.objects.filter(encounter__facility=facility).count() == 1
        assert LabObservation.objects.filter(facility=facility).count() == 9
        day = FacilityDailyHealth.objects.get(facility=facility)
        assert (day.received, day.accepted, day.rejected) == (7, 5, 2)
    assert Citizen.objects.count() == 6


def test_a_batch_costs_a_bounded_number_of_queries(
    sender, pki, spec, today, intake_codelists, django_assert_max_num_queries
):
    rng = random.Random(3)
    icd, labs = load_seed()
    at = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=8)
    bodies = []
    for n in range(1, 11):
        person = make_citizen(rng, n)
        visits = [make_visit(rng, person, "01001", k, at, icd, labs, 5, 2) for k in (1, 2)]
        bodies.append(sign(build_envelope("01001", visits, today, spec), pki["valid"]))
    subs = [Submission.objects.get(public_id=sender.post(b).json()["id"]) for b in bodies]
    submission_process(submission_id=subs[0].pk)  # warm the per-process code cache
    Submission.objects.filter(pk__in=[s.pk for s in subs]).update(status="received", claimed_at=None)
    # ten submissions: about twenty statements in all (one by one: about twenty each)
    with django_assert_max_num_queries(30):
        assert submission_process(submission_id=subs[3].pk) is not None
    assert set(Submission.objects.values_list("status", flat=True)) <= {"accepted", "accepted_with_warnings"}


def test_only_queued_submissions_of_the_same_facility_within_the_byte_budget(
    sender, facility_b, pki, signed, unsigned, intake_codelists
):
    other = make_sender(facility_b, {"valid": pki["other"]})
    mine = [Submission.objects.get(public_id=sender.post(signed).json()["id"]) for _ in range(4)]
    theirs = Submission.objects.get(public_id=other.post(signed).json()["id"])
    with override_settings(INTAKE_BATCH_BYTES=2 * len(signed)):
        submission_process(submission_id=mine[2].pk)
    statuses = dict(Submission.objects.values_list("pk", "status"))
    assert statuses[theirs.pk] == "received"
    # the named one, then the oldest queued one that fits (two bodies in all)
    done = [s.pk for s in mine if statuses[s.pk] != "received"]
    assert done == [mine[0].pk, mine[2].pk]


@pytest.mark.parametrize("fault", [RuntimeError, OperationalError])
def test_a_failing_submission_does_not_hold_back_the_others(
    fault, sender, pki, signed, unsigned, intake_codelists, monkeypatch
):
    """One submission's fault is its own: the others of the batch are processed. A transient
    fault (the database went away) leaves it in processing for the sweeper; any other ends it
    rejected with PROCESSING_FAILED, never stuck (issue 15, attack 14)."""
    subs = [Submission.objects.get(public_id=sender.post(b).json()["id"]) for b in (signed, unsigned, signed)]
    real = processing._read

    def failing(sub, body, policy, certs):
        if sub.pk == subs[1].pk:
            raise fault("fault injected into one submission")
        return real(sub, body, policy, certs)

    monkeypatch.setattr(processing, "_read", failing)
    assert submission_process(submission_id=subs[0].pk) in ("accepted", "accepted_with_warnings")
    statuses = [Submission.objects.get(pk=s.pk).status for s in subs]
    assert statuses[2] in ("accepted", "accepted_with_warnings")
    if fault is RuntimeError:
        assert statuses[1] == "rejected"
        assert list(subs[1].problems.values_list("code", flat=True)) == ["PROCESSING_FAILED"]
        return
    assert statuses[1] == "processing"  # left for the sweeper
    with pytest.raises(OperationalError):  # its own task, once its claim is stale, sees the failure
        Submission.objects.filter(pk=subs[1].pk).update(status="received", claimed_at=None)
        submission_process(submission_id=subs[1].pk)
