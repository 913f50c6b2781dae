"""Issue 15, attack 15 ("the smaller gaps"), as an attacker tries them; each records a T15 row.

The enumeration oracles (the staff form, the card dedupe, the history API), reprocessing by
code-list editors, facility-code squatting, the absolute session lifetime and re-authentication
before account changes. The CSP is in test_csp_browser.py and S16 (test_pages.py); the one
formula neutraliser in tests/core/test_spreadsheet_everywhere.py.
"""

import io
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.services import staff_create
from core.roles import Role
from healthbook.models import CardBatch
from tests import factories as f
from tests.healthbook.book.conftest import code_lists, facility_headers, key_a, stranger  # noqa: F401
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db


# --- the history API: unknown ID and unreadable ID answer alike --------------------------------


def test_history_api_answers_an_unknown_id_as_an_unreadable_one(client, key_a, doctor_a, stranger, proof):  # noqa: F811
    row = proof.row("T15", "history API: an unknown book id against one the doctor may not read (status and body)")
    unknown = reverse("api-citizen-history", kwargs={"book": uuid.uuid4()})
    known = reverse("api-citizen-history", kwargs={"book": stranger.book.public_id})
    pairs = []
    for purpose in ("TREAT", "ETREAT", ""):
        a = client.get(unknown, **facility_headers(key_a, "doctor_a", purpose))
        b = client.get(known, **facility_headers(key_a, "doctor_a", purpose))
        pairs.append(((a.status_code, a.content), (b.status_code, b.content)))
    differ = sum(x != y for x, y in pairs)
    row.set(times=len(pairs) * 2, figure=f"{len(pairs)} header variants, answers that differ: {differ}")
    assert differ == 0, pairs


# --- the staff form says nothing about accounts outside the creator's scope ----------------------


def _refusal(**kw):
    try:
        staff_create(**kw)
    except ValidationError as exc:
        return exc.message_dict
    raise AssertionError("created")


def test_staff_form_does_not_tell_which_accounts_exist_nationwide(
    client, login, facility_admin_a, ministry_admin, facility_b, proof
):
    row = proof.row("T15", "staff form as a facility admin: usernames and e-mails of other provinces' accounts")
    other = f.doctor(facility_b, username="bacsi_hcm", email="bacsi.hcm@example.vn")
    base = {"acting_user": facility_admin_a, "full_name": "Bác sĩ Mới", "role": Role.DOCTOR}
    base["practising_certificate"] = "000123/HNO-CCHN"
    answers = [
        _refusal(**base, username=ministry_admin.username, email="moi1@example.vn"),
        _refusal(**base, username=other.username, email="moi2@example.vn"),
        _refusal(**base, username="ten_moi_3", email=other.email),
        _refusal(**base, username="ten_moi_4", email=ministry_admin.email),
    ]
    # Through the page too: the same neutral words, no field named.
    page = login(facility_admin_a).post(
        reverse("staff-create"),
        {
            "full_name": "Bác sĩ Mới",
            "username": other.username,
            "email": "moi5@example.vn",
            "role": Role.DOCTOR,
            "practising_certificate": "000123/HNO-CCHN",
        },
    )
    text = page.content.decode()
    telling = sum(("username" in a or "email" in a) for a in answers)
    distinct = len({str(a) for a in answers})
    row.set(
        times=len(answers) + 1,
        figure=f"{len(answers)} taken names/e-mails outside the scope: answers naming the field {telling}, "
        f"distinct answers {distinct}",
    )
    assert telling == 0 and distinct == 1
    assert page.status_code == 200 and "không dùng được" in text
    assert "Tên đăng nhập này đã được dùng" not in text and "Đã có tài khoản dùng email này" not in text


def test_staff_form_still_names_a_clash_inside_the_scope(facility_admin_a, doctor_a):
    answer = _refusal(
        acting_user=facility_admin_a,
        full_name="Bác sĩ Mới",
        role=Role.DOCTOR,
        practising_certificate="000124/HNO-CCHN",
        username=doctor_a.username,
        email="moi@example.vn",
    )
    assert "username" in answer


# --- the card dedupe does not say a file was imported in another province -------------------------


def _upload(client, data: bytes, url_name: str):
    fh = io.BytesIO(data)
    fh.name = "the-bhyt.csv"
    return client.post(reverse(url_name), {"file": fh})


def test_card_dedupe_does_not_tell_a_file_was_imported_elsewhere(client, officer_hanoi, officer_hcm, proof, login):
    row = proof.row("T15", "card upload (page, API) of a file another province imported")
    data = card_csv([person(n) for n in range(1, 4)])
    fresh = card_csv([person(n) for n in range(10, 13)])
    theirs = _upload(login(officer_hcm), data, "api-card-batches")
    assert theirs.status_code == 202
    mine = login(officer_hanoi)
    api = _upload(mine, data, "api-card-batches")
    api_fresh = _upload(mine, fresh, "api-card-batches")
    same_again = _upload(mine, data, "api-card-batches")
    telling = [
        api.status_code != api_fresh.status_code,
        set(api.json()) != set(api_fresh.json()),
        api.json().get("duplicate") is not False,
        "outside" in api.content.decode() or "ngoài" in api.content.decode(),
    ]
    row.set(
        times=3,
        figure=f"answers unlike a new file's: {sum(telling)}; the province's own re-upload named as its batch: "
        f"{same_again.status_code == 200 and same_again.json()['duplicate']}",
    )
    assert not any(telling), (api.status_code, api.content)
    assert same_again.status_code == 200 and same_again.json()["id"] == api.json()["id"]
    assert CardBatch.objects.filter(scope_province=officer_hanoi.province).count() == 2


def test_card_dedupe_page_says_nothing_of_another_province(client, officer_hanoi, officer_hcm, login):
    data = card_csv([person(n) for n in range(20, 23)])
    _upload(login(officer_hcm), data, "api-card-batches")
    page = _upload(login(officer_hanoi), data, "card-batch-list")
    assert page.status_code == 302
    batch = CardBatch.objects.get(scope_province=officer_hanoi.province)
    assert page["Location"].endswith(f"/{batch.public_id}/")
    follow = client.get(page["Location"])
    assert not [str(m) for m in follow.context["messages"]]


# --- facility-code squatting ----------------------------------------------------------------------


def test_a_facility_admin_cannot_squat_facility_codes(facility_admin_a, officer_hanoi, proof):
    from facilities import services as facility_services
    from facilities.models import Facility

    row = proof.row("T15", "a facility admin registers 20 facility codes of its province (pending, never decided)")
    refused = 0
    for n in range(2, 22):
        try:
            facility_services.facility_register(
                acting_user=facility_admin_a, code=f"01{n:03d}", province=f.province("01"), name=f"Phòng khám {n}"
            )
        except ValidationError as exc:
            assert "code" in exc.message_dict or "__all__" in exc.message_dict
            refused += 1
    held = Facility.objects.filter(registered_by=facility_admin_a, status="pending").count()
    # The province officer, who decides the province's registrations, is not limited.
    for n in range(30, 33):
        facility_services.facility_register(
            acting_user=officer_hanoi, code=f"01{n:03d}", province=f.province("01"), name=f"Trạm {n}"
        )
    row.set(times=20, figure=f"20 codes tried: held {held}, refused {refused}; the officer registered 3 of 3")
    assert held == 1 and refused == 19


# --- absolute session lifetime --------------------------------------------------------------------


def _age_sign_in(client, seconds: int) -> None:
    from accounts.sessions import SIGNED_IN_AT_KEY

    session = client.session
    session[SIGNED_IN_AT_KEY] = session[SIGNED_IN_AT_KEY] - seconds
    session.save()


def test_a_session_ends_at_its_absolute_lifetime_whatever_the_activity(login, doctor_a, settings, proof):
    row = proof.row("T15", "a session kept busy (a request every few minutes) past 12 hours after sign-in")
    client = login(doctor_a)
    assert client.get("/").status_code == 200
    lifetime = settings.SSKDT_SESSION_ABSOLUTE_SECONDS
    _age_sign_in(client, lifetime - 60)
    still = client.get("/")
    _age_sign_in(client, 61)
    page = client.get("/")
    api = client.get("/api/v1/provinces/")
    row.set(
        times=3,
        figure=f"lifetime {lifetime // 3600} h: a minute before {still.status_code}, after: page {page.status_code} "
        f"to the sign-in, API {api.status_code}",
    )
    assert lifetime == 12 * 3600
    assert still.status_code == 200
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert api.status_code in (401, 403)


# --- re-authentication before sensitive account changes -----------------------------------------


def test_account_changes_need_a_fresh_sign_in(login, doctor_a, proof):
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    from tests.conftest import enrol_totp
    from tests.factories import TEST_PASSWORD

    row = proof.row(
        "T15", "a stolen session (signed in > 5 min ago) adds an e-mail, removes TOTP, changes the password"
    )
    # A session without a recent authentication (one left open, or stolen). E-mail first, before
    # TOTP: allauth refuses new addresses outright on an account protected by TOTP.
    client = login(doctor_a, mfa=False)
    add = client.post("/accounts/email/", {"action_add": "", "email": "thief@example.vn"})
    enrol_totp(doctor_a)
    totp = client.post("/accounts/2fa/totp/deactivate/")
    codes = client.post("/accounts/2fa/recovery-codes/generate/")
    password = client.post(
        "/accounts/password/change/", {"password1": "Thief-password-2026!", "password2": "Thief-password-2026!"}
    )
    doctor_a.refresh_from_db()
    done = [
        EmailAddress.objects.filter(email="thief@example.vn").exists(),
        not Authenticator.objects.filter(user=doctor_a, type="totp").exists(),
        doctor_a.check_password("Thief-password-2026!"),
    ]
    asked = sum(r.status_code == 302 and "/reauthenticate/" in r["Location"] for r in (add, totp, codes))
    # After typing the password again, the change goes through.
    Authenticator.objects.filter(user=doctor_a).delete()
    client.post("/accounts/reauthenticate/", {"password": TEST_PASSWORD})
    client.post("/accounts/email/", {"action_add": "", "email": "new.address@example.vn"})
    row.set(
        times=4,
        figure=f"changes made: {sum(done)} of 3; sent to re-authenticate: {asked} of 3; password change without "
        f"the current password: refused ({password.status_code}); after re-authenticating: e-mail added "
        f"{EmailAddress.objects.filter(email='new.address@example.vn').exists()}",
    )
    assert sum(done) == 0 and asked == 3
    assert EmailAddress.objects.filter(email="new.address@example.vn").exists()
