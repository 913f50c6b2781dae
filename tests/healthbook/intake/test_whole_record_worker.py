"""Issue 17, done-when: the FHIR bundle holding every resource type of point 1, POSTed to the real
endpoint and processed by a real Celery worker over Redis, comes back whole in `$everything`."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from healthbook.intake.jws import sign_detached
from healthbook.models import HealthBook, Submission
from tests.conftest import TRANSACTIONAL
from tests.healthbook.book.conftest import facility_headers

from .conftest import FACILITY
from .test_worker import BROKER, _wait_final, worker  # noqa: F401 — the worker fixture
from .whole_record import PATIENT_ID, bundle
from .whole_record_table import rows

pytestmark = [
    pytest.mark.worker,
    TRANSACTIONAL,
    pytest.mark.skipif(not BROKER.startswith("redis://"), reason="needs CELERY_BROKER_URL=redis://… (a real broker)"),
]


def test_the_whole_record_through_the_real_worker(worker, sender, pki, intake_codelists, doctor_a, client):  # noqa: F811
    from fhir.resources.R4B.bundle import Bundle

    body = bundle(when=(timezone.localtime() - timedelta(days=1)).replace(microsecond=0).isoformat())
    jws = sign_detached(body, pki["valid"].key, kid=FACILITY)
    assert sender.post(body, "application/fhir+json", **{"X-Signature": jws}).status_code == 202
    _wait_final(1)
    sub = Submission.objects.get()
    assert sub.status == "accepted_with_warnings" and sub.error_count == 0
    book = HealthBook.objects.get(citizen__personal_id=PATIENT_ID)
    url = reverse("fhir-patient-everything", kwargs={"id": str(book.public_id)})
    response = client.get(url, **facility_headers(sender.key, "doctor_a"))
    assert response.status_code == 200
    kinds = {e.resource.__resource_type__ for e in Bundle.model_validate(response.json()).entry}
    for row in rows():
        if not row.is_xml and row.source != "any other FHIR type":
            assert set(row.resources) <= kinds, row.source
