"""The hostile suite through POST /api/v1/submissions/: each fixture gets its documented answer
and nothing else in the database changes (table counts before/after)."""

import pytest
from django.db import connection

from healthbook.intake.jws import sign_detached

from .conftest import FACILITY, process
from .test_hostile import Listener, make, readme_rows, signed_unsigned

pytestmark = pytest.mark.django_db

CLINICAL = [
    "healthbook_citizen",
    "healthbook_book",
    "healthbook_encounter",
    "healthbook_encounter_history",
    "healthbook_medication",
    "healthbook_lab_observation",
    "healthbook_service_item",
    "healthbook_clinical_note",
    "healthbook_follow_up",
    "healthbook_immunization",
    "healthbook_pregnancy_checkup",
    "healthbook_document",
    "healthbook_received_table",
]
INTAKE = ["healthbook_submission", "healthbook_submission_payload"]


@pytest.fixture
def loopback():
    lst = Listener()
    yield lst
    lst.close()


def counts(tables):
    with connection.cursor() as cur:
        out = {}
        for t in tables:
            cur.execute(f"SELECT count(*) FROM {t}")  # noqa: S608 — fixed table names
            out[t] = cur.fetchone()[0]
        return out


@pytest.mark.parametrize(("name", "code"), readme_rows(), ids=[n for n, _ in readme_rows()])
def test_hostile_fixture_through_the_endpoint(name, code, sender, pki, signed, unsigned, loopback, intake_codelists):
    signed_unsigned[:] = [unsigned]
    kind, body = make(name, pki, signed, loopback)
    before_clinical, before_intake = counts(CLINICAL), counts(INTAKE)
    if name == "generated:oversized":
        response = sender.post(body)
        assert response.status_code == 413 and response.json()["code"] == "body_too_large"
        assert counts(INTAKE) == before_intake and counts(CLINICAL) == before_clinical
        return
    headers = {}
    content_type = "application/xml"
    if kind == "fhir":
        content_type = "application/fhir+json"
        headers["X-Signature"] = sign_detached(body, pki["valid"].key, kid=FACILITY)
    sub = process(sender.post(body, content_type, **headers))
    assert sub.status == "rejected"
    assert code in set(sub.problems.filter(severity="error").values_list("code", flat=True))
    assert counts(CLINICAL) == before_clinical
    after = counts(INTAKE)
    assert {t: after[t] - before_intake[t] for t in INTAKE} == {t: 1 for t in INTAKE}  # the bytes are kept
    assert loopback.connections == 0


def test_body_without_content_length_is_cut_off_while_reading():
    """Chunked uploads declare no length: the limit is enforced on the bytes actually read."""
    import io

    from healthbook.intake.api import _TooLarge, read_body

    class Fake:
        def __init__(self, data):
            self.META, self._stream = {}, io.BytesIO(data)

        def read(self, n):
            return self._stream.read(n)

    class Req:
        def __init__(self, data):
            self._request = Fake(data)

    assert read_body(Req(b"x" * 1000), 1000) == b"x" * 1000
    with pytest.raises(_TooLarge):
        read_body(Req(b"x" * 300_000), 200_000)


@pytest.mark.parametrize("content_type", ["application/json", "text/html", "multipart/form-data; boundary=x", ""])
def test_wrong_content_type_is_415_and_stores_nothing(sender, signed, content_type, intake_codelists):
    before = counts(INTAKE + CLINICAL)
    response = sender.post(signed, content_type)
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    assert counts(INTAKE + CLINICAL) == before


def test_no_api_key_is_401_and_stores_nothing(client, signed, intake_codelists):
    before = counts(INTAKE)
    response = client.post("/api/v1/submissions/", data=signed, content_type="application/xml")
    assert response.status_code in (401, 403)
    assert counts(INTAKE) == before


def test_another_facilitys_certificate_is_rejected(sender, unsigned, pki, intake_codelists):
    from .conftest import sign

    sub = process(sender.post(sign(unsigned, pki["other"])))
    assert "SIG_CERT_UNKNOWN" in set(sub.problems.values_list("code", flat=True))


def test_revoked_certificate_rejects_later_signatures(sender, signed, intake_codelists):
    from django.utils import timezone

    from facilities.models import FacilityCertificate

    FacilityCertificate.objects.filter(facility=sender.facility).update(
        revoked_at=timezone.now() - timezone.timedelta(days=2)
    )
    sub = process(sender.post(signed))
    assert sub.status == "rejected"
