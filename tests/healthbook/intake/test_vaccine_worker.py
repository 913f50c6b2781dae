"""Issue 17, point 5, done-when through a real Celery worker over Redis: a dose sent with a CVX
code (and one sent as a programme product name) is stored under the national vaccine code and
counts as given on the schedule of the book."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from codelists import in_force, lookups
from healthbook.book.header import vaccination_record
from healthbook.intake.jws import sign_detached
from healthbook.models import HealthBook, Submission
from tests.conftest import TRANSACTIONAL

from .conftest import FACILITY, load_intake_codelists
from .test_worker import BROKER, _wait_final, worker  # noqa: F401 — the worker fixture
from .vaccine_bundle import bundle, personal_id

pytestmark = [
    pytest.mark.worker,
    TRANSACTIONAL,
    pytest.mark.skipif(not BROKER.startswith("redis://"), reason="needs CELERY_BROKER_URL=redis://… (a real broker)"),
]


def test_a_dose_sent_in_cvx_counts_as_given_through_the_real_worker(worker, sender, pki):  # noqa: F811
    load_intake_codelists(effective_from=dt.date(2018, 1, 1))
    call_command("load_codelists", "vaccine", "lab-indicator", stdout=StringIO())
    in_force.forget()
    lookups.forget()
    birth = timezone.localdate() - dt.timedelta(days=100)
    body = bundle(birth, (timezone.localtime() - dt.timedelta(days=1)).replace(microsecond=0).isoformat())
    jws = sign_detached(body, pki["valid"].key, kid=FACILITY)
    assert sender.post(body, "application/fhir+json", **{"X-Signature": jws}).status_code == 202
    _wait_final(1)
    sub = Submission.objects.get()
    assert sub.error_count == 0 and not sub.problems.filter(code="CODE_UNKNOWN").exists()
    book = HealthBook.objects.get(citizen__personal_id=personal_id(birth))

    class Access:  # what book_view hands the page: the book and its citizen
        pass

    access = Access()
    access.book, access.citizen = book, book.citizen
    states = {(r["code"], r["dose"]): r["state"] for r in vaccination_record(access)["rows"]}
    for given in (("TCMR-BCG", 1), ("TCMR-VGB-SS", 1), ("TCMR-DPT-VGB-HIB", 1), ("TCMR-OPV", 1)):
        assert states[given] == "given", given
    assert "overdue" not in states.values()
