"""Submission pages: scoped lists, 404 outside the scope, reprocess by the facility admin or the ministry admin."""

import pytest

from healthbook.models import Submission

from .conftest import make_sender, process

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(sender, facility_b, pki, intake_codelists):
    a = process(sender.post(b"<GIAMDINHHS>"))
    b = process(make_sender(facility_b, {}).post(b"<GIAMDINHHS>"))
    return a, b


def test_ministry_sees_all_submissions(login, ministry_admin, two, django_assert_max_num_queries):
    client = login(ministry_admin)
    with django_assert_max_num_queries(16):
        response = client.get("/books/submissions/")
    assert response.status_code == 200
    assert "01001" in response.content.decode() and "79001" in response.content.decode()


def test_officer_sees_only_their_province(login, officer_hanoi, two):
    a, b = two
    client = login(officer_hanoi)
    body = client.get("/books/submissions/").content.decode()
    assert str(a.public_id) in body or "01001" in body
    assert "79001" not in body
    assert client.get(f"/books/submissions/{b.public_id}/").status_code == 404


def test_facility_admin_sees_own_facility_and_problems_in_vietnamese(login, facility_admin_a, two):
    a, b = two
    client = login(facility_admin_a)
    page = client.get(f"/books/submissions/{a.public_id}/")
    assert page.status_code == 200 and "XML_MALFORMED" in page.content.decode()
    assert "không" in page.content.decode().lower()
    assert client.get(f"/books/submissions/{b.public_id}/").status_code == 404
    assert client.post(f"/books/submissions/{b.public_id}/reprocess/").status_code == 404


def test_doctor_and_outsider_get_no_submission_pages(login, doctor_a, outsider, two):
    for user in (doctor_a, outsider):
        client = login(user)
        assert client.get("/books/submissions/").status_code in (403, 404)


def test_ministry_reprocess_button_queues_a_rejected_submission(login, ministry_admin, two, settings):
    a, _b = two
    client = login(ministry_admin)
    response = client.post(f"/books/submissions/{a.public_id}/reprocess/")
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == Submission.Status.RECEIVED and a.reprocessed_by == ministry_admin


def test_reprocess_command_processes_rejected(two):
    from django.core.management import call_command

    call_command("reprocess_submissions", "--status", "rejected", "--now")
    assert Submission.objects.filter(status="rejected").count() == 2
    assert set(Submission.objects.values_list("attempts", flat=True)) == {2}


def test_reprocess_only_by_the_facility_admin_or_the_ministry_admin(
    client, login, ministry_admin, ministry_editor, officer_hanoi, facility_admin_a, facility_admin_b, two, proof
):
    """Issue 15, attack 15: code-list editors could reprocess any rejected submission."""
    row = proof.row("T15", "reprocess a rejected submission of facility A as each staff role")
    a, _b = two
    outcome = {}
    for name, user in [
        ("ministry editor", ministry_editor),
        ("province officer", officer_hanoi),
        ("facility admin B", facility_admin_b),
        ("facility admin A", facility_admin_a),
        ("ministry admin", ministry_admin),
    ]:
        Submission.objects.filter(pk=a.pk).update(status=Submission.Status.REJECTED)
        client.logout()
        response = login(user).post(f"/books/submissions/{a.public_id}/reprocess/")
        a.refresh_from_db()
        outcome[name] = (response.status_code, a.status == Submission.Status.RECEIVED)
    allowed = sorted(k for k, (_code, queued) in outcome.items() if queued)
    row.set(times=len(outcome), figure=f"{len(outcome)} roles tried; queued again by: {', '.join(allowed)}")
    assert allowed == ["facility admin A", "ministry admin"], outcome
    assert outcome["ministry editor"][0] == 403 and outcome["facility admin B"][0] == 404
