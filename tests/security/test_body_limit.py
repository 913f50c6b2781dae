"""Issue 15, attack 14: large bodies are refused before login. Every URL answers 413 to a body
declaring more than SSKDT_MAX_REQUEST_BYTES (1 MiB) before anything reads it, anonymous or not;
only the upload endpoints accept more, and only from a signed-in user or a valid key.

The test client sends a 1-byte body that *declares* 2 GiB (CONTENT_LENGTH): what matters is
that the portal refuses on the declaration, before reading."""

import pytest
from django.urls import reverse

from core.bodylimit import upload_limit
from tests.security.crawl import endpoints

pytestmark = pytest.mark.django_db

GIB2 = str(2 * 1024**3)
MIB2 = 2 * 1024 * 1024
UPLOADS = {"card-batch-list", "api-card-batches", "api-submissions", "codelists:import-upload", "facility-import"}


def _post(client, path, declared: str, **extra):
    return client.post(path, data=b"x", content_type="application/octet-stream", CONTENT_LENGTH=declared, **extra)


def test_every_url_refuses_2_gib_before_login(client, proof):
    row = proof.row("T14", "A body declaring 2 GiB, anonymous, POST to every URL pattern")
    urls = endpoints()
    refused = sum(_post(client, e.path(), GIB2).status_code == 413 for e in urls)
    row.set(times=len(urls), figure=f"{len(urls)} URL patterns: {refused} answered 413 before login")
    assert refused == len(urls)


def test_only_the_upload_endpoints_take_more_than_the_small_limit():
    marked = {e.name for e in endpoints() if upload_limit(e.callback) is not None}
    assert marked == UPLOADS


def test_a_body_over_1_mib_needs_a_session_or_a_valid_key(client, login, ministry_admin, facility_a, proof):
    from facilities.credentials import api_key_create
    from facilities.models import FacilityStatus

    facility_a.status = FacilityStatus.APPROVED
    facility_a.save(update_fields=["status"])

    row = proof.row("T14", "2 MiB bodies to the upload endpoints: anonymous, bad key, signed in, valid key")
    uploads = [reverse(name) for name in ("card-batch-list", "api-card-batches", "api-submissions")]
    anonymous = [_post(client, url, str(MIB2)).status_code for url in uploads]
    bad_key = [_post(client, url, str(MIB2), HTTP_AUTHORIZATION="Api-Key nope").status_code for url in uploads]
    small_page = _post(client, reverse("account_login"), str(MIB2)).status_code
    key = api_key_create(facility=facility_a, name="HIS", acting_user=None).key
    with_key = _post(client, reverse("api-submissions"), str(MIB2), HTTP_AUTHORIZATION=f"Api-Key {key}").status_code
    signed_in = login(ministry_admin)
    session = _post(signed_in, reverse("card-batch-list"), str(MIB2)).status_code
    session_small_page = _post(signed_in, reverse("citizen-search"), str(MIB2)).status_code
    row.set(
        times=len(anonymous) + len(bad_key) + 4,
        figure=f"anonymous {anonymous}, bad key {bad_key}, login page {small_page}, other page signed in "
        f"{session_small_page}; valid key {with_key}, signed in {session} (read by the view)",
    )
    assert anonymous == [413] * 3 and bad_key == [413] * 3 and small_page == 413 and session_small_page == 413
    assert with_key != 413 and session != 413
