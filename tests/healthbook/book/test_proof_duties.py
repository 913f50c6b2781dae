"""Proof rows T1, T7, T9 and T10 (issue 15, "Trust"): separation of duties around the book, and
personal IDs kept out of URLs.

Each test plays the attack as issue 15 found it on main, through the pages and APIs an attacker
can reach, and counts what succeeded. Paths are written out literally: the attacker tries both the
old addresses (personal ID in the path, a practitioner named in a header) and the new ones.
"""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accesslog.models import EmergencyAccess
from facilities.models import FacilityStatus
from tests import factories as f
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db

CLINICAL = "Viêm họng cấp do liên cầu"
KEY_PATTERN = re.compile(r"sskdt_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}")


def _strangers(facility, n):
    """Citizens seen only at `facility`, each with a clinical note."""
    people = []
    for i in range(n):
        person = df.citizen(name=f"Người Lạ Số {i}", province=facility.province)
        df.visit(person.book, facility, dx="J06", note=CLINICAL, labs=1)
        people.append(person)
    return people


def _clinical(response) -> bool:
    """A successful answer carrying clinical detail (the note, or the diagnosis code J06)."""
    body = response.content.decode()
    return response.status_code == 200 and (CLINICAL in body or "J06" in body)


def _operational(facility):
    facility.status = FacilityStatus.CONNECTED
    facility.approved_at = timezone.now()
    facility.save(update_fields=["status", "approved_at"])


@pytest.fixture
def sign_in(login):
    """Sign a user in, enrolling TOTP the first time only."""

    def _sign_in(user):
        from allauth.mfa.models import Authenticator

        return login(user, mfa=not Authenticator.objects.filter(user=user).exists())

    return _sign_in


def _software_headers(key, practitioner, purpose="ETREAT", reason="unconscious"):
    return {
        "HTTP_AUTHORIZATION": f"Api-Key {key}",
        "HTTP_X_PRACTITIONER_ID": practitioner,
        "HTTP_X_PURPOSE_OF_USE": purpose,
        "HTTP_X_EMERGENCY_REASON": reason,
    }


# --- T1 -------------------------------------------------------------------------------------


def test_t1_facility_admin_reads_no_clinical_data_through_doctors_or_keys_it_created(
    proof, client, sign_in, facility_admin_a, facility_a, facility_b, code_lists
):
    row = proof.row(
        "T1",
        "a facility administrator creates a doctor account and an API key on its own pages, then reads "
        "citizens of another facility as that doctor: history API and FHIR $everything by personal ID and "
        "by book id with the practitioner and emergency headers, the doctor's own sign-in (book page, "
        "break-the-glass, authorising the software) — and marks the emergency grants it caused justified",
    )
    _operational(facility_a)
    people = _strangers(facility_b, 10)
    sign_in(facility_admin_a)
    created = client.post(
        reverse("staff-create"),
        {
            "full_name": "Bác sĩ Bù Nhìn",
            "username": "bs.bunhin",
            "email": "hopthu.cua.quantri@test.invalid",
            "role": "doctor",
            "practising_certificate": "000999/HNO-CCHN",
        },
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    page = client.post(
        reverse("facility-key-create", kwargs={"code": facility_a.code}), {"name": "HIS tự tạo"}, follow=True
    )
    key = KEY_PATTERN.search(page.content.decode()).group(0)
    client.logout()

    from accounts.models import User

    puppet = User.objects.get(username="bs.bunhin")
    tried = reads = 0
    for person in people:
        book = str(person.book.public_id)
        for path in (
            f"/api/v1/citizens/{person.personal_id}/history/",
            f"/api/v1/citizens/{book}/history/",
            f"/fhir/Patient/{person.personal_id}/$everything",
            f"/fhir/Patient/{book}/$everything",
        ):
            response = client.get(path, **_software_headers(key, puppet.username))
            tried += 1
            reads += _clinical(response)
        lookup = client.post(
            "/api/v1/citizens/lookup/",
            {"personal_id": person.personal_id},
            content_type="application/json",
            **_software_headers(key, puppet.username),
        )
        tried += 1
        reads += _clinical(lookup)

    # The administrator chose the doctor's e-mail address, so it can set the doctor's password
    # and sign in as the doctor (MFA enrolled by the same hand).
    puppet.set_password(f.TEST_PASSWORD)
    puppet.save(update_fields=["password"])
    sign_in(puppet)
    session_accepted = int(client.get("/").status_code == 200)
    signed_in = []
    for person in people[:3]:
        book_url = reverse("book-detail", kwargs={"public_id": person.book.public_id})
        signed_in.append(client.post(f"{book_url}emergency/", {"reason": "unconscious"}))
        signed_in.append(client.get(book_url))
    authorise = client.get(
        "/oauth/authorize/",
        {
            "response_type": "code",
            "client_id": key.split("_")[1],
            "redirect_uri": "http://127.0.0.1:9/callback",
            "scope": "user/*.read",
            "state": "x",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    tried += len(signed_in) + 1
    reads += sum(_clinical(r) for r in signed_in)
    codes = authorise.status_code == 302 and "code=" in authorise.get("Location", "")
    reads += codes
    client.logout()

    sign_in(facility_admin_a)
    justified = 0
    for grant in EmergencyAccess.objects.filter(facility=facility_a):
        client.post(
            f"/access-log/emergency-reviews/{grant.public_id}/", {"status": "justified", "note": "Đúng quy trình"}
        )
        grant.refresh_from_db()
        justified += grant.review_status == "justified" and grant.reviewed_by_id == facility_admin_a.pk
    grants = EmergencyAccess.objects.filter(facility=facility_a).count()
    row.set(
        times=tried,
        figure=f"{reads}/{tried} reads of clinical data succeeded ({len(people)} citizens, old and new paths, "
        f"software and signed-in doctor); emergency grants opened {grants}, justified by the facility's own "
        f"administrator {justified}; the unconfirmed doctor's session accepted {session_accepted}/1",
    )
    assert reads == 0 and justified == 0 and session_accepted == 0


# --- T7 -------------------------------------------------------------------------------------


def test_t7_emergency_openings_are_capped_reviewed_by_the_province_final_and_announced(
    proof, client, sign_in, settings, facility_a, facility_admin_a, officer_hanoi, officer_hcm, facility_b, code_lists
):
    row = proof.row(
        "T7",
        "break-the-glass 8 times in a day by one doctor and 14 times by a facility's doctors (caps 3 per "
        "doctor, 10 per facility); the facility's own administrator and another province's officer review; "
        "the province officer reviews, then changes the verdict; the province's page and daily digest",
    )
    settings.SSKDT_EMERGENCY_CAP_PER_DOCTOR = 3
    settings.SSKDT_EMERGENCY_CAP_PER_FACILITY = 10
    doctors = [f.doctor(facility_a, username=f"bs.capcuu{i}") for i in range(5)]
    people = _strangers(facility_b, 8)

    opened = refused_with_message = 0
    attempts = 0
    for i, doctor in enumerate(doctors):
        sign_in(doctor)
        tries = 8 if i == 0 else 2
        for person in people[:tries]:
            attempts += 1
            url = reverse("book-emergency", kwargs={"public_id": person.book.public_id})
            response = client.post(url, {"reason": "life_threat"}, HTTP_ACCEPT_LANGUAGE="vi")
            if response.status_code == 302:
                opened += 1
            else:
                refused_with_message += "giới hạn" in response.content.decode().lower()
        client.logout()
    # doctor 0: 3 of 8 (its cap); doctors 1-4: 2 each while the facility's 10 last.
    expected_open = 3 + 2 + 2 + 2 + 1

    grant = EmergencyAccess.objects.filter(facility=facility_a).order_by("started_at").first()
    review = f"/access-log/emergency-reviews/{grant.public_id}/"
    sign_in(facility_admin_a)
    own_admin = client.post(review, {"status": "justified"})
    client.logout()
    sign_in(officer_hcm)
    other_province = client.post(review, {"status": "justified"})
    client.logout()
    grant.refresh_from_db()
    reviewed_by_outsiders = int(grant.review_status != "pending")
    sign_in(officer_hanoi)
    queue = client.get("/access-log/emergency-reviews/").content.decode()
    on_page = sum(str(g.public_id) in queue for g in EmergencyAccess.objects.filter(facility=facility_a))
    client.post(review, {"status": "unjustified", "note": "Không có dấu hiệu cấp cứu"})
    client.post(review, {"status": "justified", "note": "Đổi ý"})
    client.logout()
    grant.refresh_from_db()
    changed_after_verdict = int(grant.review_status != "unjustified")

    from provinces.connectivity import connectivity_digests_send

    mail.outbox.clear()
    connectivity_digests_send(day=timezone.localdate())
    digest = "\n".join(m.body for m in mail.outbox if officer_hanoi.email in m.to)
    in_digest = sum(d.full_name in digest for d in doctors if EmergencyAccess.objects.filter(user=d).exists())
    openers = sum(EmergencyAccess.objects.filter(user=d).exists() for d in doctors)
    row.set(
        times=attempts + 5,
        figure=f"openings {opened}/{attempts} (expected {expected_open} under the caps), refusals with the cap "
        f"message {refused_with_message}/{attempts - opened}; verdicts by the facility's administrator or "
        f"another province {reviewed_by_outsiders}; verdict changed afterwards {changed_after_verdict}; "
        f"openings on the province officer's page {on_page}/{opened}; doctors named in the daily digest "
        f"{in_digest}/{openers}",
    )
    assert opened == expected_open and refused_with_message == attempts - opened
    assert own_admin.status_code in (403, 404) and other_province.status_code in (403, 404)
    assert reviewed_by_outsiders == 0 and changed_after_verdict == 0
    assert on_page == opened and in_digest == openers > 0


# --- T9 -------------------------------------------------------------------------------------


def test_t9_masked_personal_id_reveals_at_most_the_last_three_digits(proof, client, sign_in, doctor_a, code_lists):
    row = proof.row(
        "T9",
        "a doctor searches by name and reads the masked personal IDs of the results (beside birth year and "
        "sex); the emergency form's identity block shows the same mask",
    )
    people = [df.citizen(name="Phạm Thị Mẫu", birth=timezone.localdate().replace(year=1990), sex=2) for _ in range(5)]
    sign_in(doctor_a)
    body = client.post(reverse("citizen-search"), {"q": "pham thi mau"}).content.decode()
    body += client.get(reverse("citizen-search"), {"q": "pham thi mau"}).content.decode()
    body += client.get(reverse("book-detail", kwargs={"public_id": people[0].book.public_id})).content.decode()
    shown = re.findall(r"[0-9•]{12}", body)
    masked = [s for s in shown if "•" in s]
    revealed = max((sum(ch.isdigit() for ch in s) for s in masked), default=12)
    leading = sum(any(ch.isdigit() for ch in s[:-3]) for s in masked)
    full = sum(p.personal_id in body for p in people)
    row.set(
        times=len(masked),
        figure=f"{len(masked)} masked IDs shown; at most {revealed} of 12 digits revealed, {leading} revealing "
        f"more than the last 3; full IDs shown {full}; about {10 ** (12 - revealed):,} candidates left per person",
    )
    assert masked and revealed <= 3 and leading == 0 and full == 0


# --- T10 ------------------------------------------------------------------------------------

REDIRECT = "http://127.0.0.1:9/callback"


def _software_token(client, sign_in, facility_admin, doctor, facility):
    """The documented way for facility software to read for a doctor: a key with a registered
    redirect address, the doctor's sign-in and consent, the code exchanged with PKCE. None when
    any step is missing (main had none of them)."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import parse_qs, urlsplit

    sign_in(facility_admin)
    page = client.post(
        reverse("facility-key-create", kwargs={"code": facility.code}),
        {"name": "HIS", "redirect_uris": REDIRECT},
        follow=True,
    )
    client.logout()
    found = KEY_PATTERN.search(page.content.decode())
    if not found:
        return None, []
    key = found.group(0)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "response_type": "code",
        "client_id": key.split("_")[1],
        "redirect_uri": REDIRECT,
        "scope": "user/*.read",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    sign_in(doctor)
    consent = client.post("/oauth/authorize/", {**params, "allow": "1"})
    client.logout()
    location = consent.get("Location", "")
    code = parse_qs(urlsplit(location).query).get("code", [""])[0]
    token = client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": params["client_id"],
        },
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    urls = ["/oauth/authorize/", location, "/oauth/token/"]
    if token.status_code != 200:
        return None, urls
    return token.json()["access_token"], urls


def test_t10_personal_ids_stay_out_of_urls_and_the_request_log(
    proof, client, sign_in, doctor_a, facility_admin_a, facility_a, patient_a, caplog, citizen_app_key
):
    row = proof.row(
        "T10",
        "a doctor searches by personal ID and opens the book; facility software looks the citizen up, reads "
        "the history and $everything, and looks up a mistyped ID; the citizen app reads the access log — "
        "every URL requested or redirected to and every request-log line is searched for the ID; then the "
        "old ID-in-URL addresses are tried",
    )
    import logging

    _operational(facility_a)
    caplog.set_level(logging.INFO)
    pid = patient_a.personal_id
    wrong = pid[:-1] + str((int(pid[-1]) + 1) % 10)
    urls: list[str] = []

    sign_in(doctor_a)
    page = client.get(reverse("citizen-search")).content.decode()
    form = re.search(r"<form[^>]*id=\"citizen-search-form\"[^>]*>", page).group(0)
    posted = 'method="post"' in form.lower()
    search = client.post(reverse("citizen-search"), {"q": pid})
    urls.append(reverse("citizen-search"))
    if search.status_code == 302:  # an exact ID goes straight to the book (issue 18): the URL redirected to
        links = [search["Location"]]
    else:
        links = re.findall(r'href="([^"]+)"', search.content.decode())
    urls += links
    found = any(str(patient_a.book.public_id) in link for link in links)
    client.logout()

    token, token_urls = _software_token(client, sign_in, facility_admin_a, doctor_a, facility_a)
    urls += token_urls
    software = 0
    if token:
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_PURPOSE_OF_USE": "TREAT"}
        lookup = client.post(
            "/api/v1/citizens/lookup/", {"personal_id": pid}, content_type="application/json", **bearer
        )
        book = lookup.json().get("book") if lookup.status_code == 200 else None
        client.post("/api/v1/citizens/lookup/", {"personal_id": wrong}, content_type="application/json", **bearer)
        urls.append("/api/v1/citizens/lookup/")
        for url in (f"/api/v1/citizens/{book}/history/", f"/fhir/Patient/{book}/$everything"):
            urls.append(url)
            software += book is not None and client.get(url, **bearer).status_code == 200
    app = client.post(
        "/api/v1/citizens/access-log/",
        {"personal_id": pid},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Citizen-App-Key {citizen_app_key}",
    )
    urls.append("/api/v1/citizens/access-log/")
    in_urls = sum(pid in u or wrong in u for u in urls)
    in_log = sum(pid in r.getMessage() or wrong in r.getMessage() for r in caplog.records)

    # What a client following the old documentation would do: each of these puts the ID in a URL.
    old = [f"/doctor/?q={pid}", f"/api/v1/citizens/{pid}/history/", f"/fhir/Patient/{pid}/$everything"]
    answered_old = 0
    for url in old:
        sign_in(doctor_a)
        response = client.get(url)
        client.logout()
        answered_old += response.status_code == 200 and patient_a.full_name in response.content.decode()
    route_params = _personal_id_route_parameters()
    row.set(
        times=len(urls) + len(old) + 1,
        figure=f"search form submits by POST {int(posted)}/1 and finds by ID {int(found)}/1; software reads by "
        f"book id after a lookup by body {software}/2; citizen app reads its log by body "
        f"{int(app.status_code == 200)}/1; URLs carrying the ID {in_urls}/{len(urls)}; request-log lines with "
        f"the ID {in_log}; old ID-in-URL addresses still answering {answered_old}/{len(old)}; URL patterns "
        f"taking a personal ID {len(route_params)}",
    )
    assert posted and found and software == 2 and app.status_code == 200
    assert in_urls == 0 and in_log == 0 and answered_old == 0 and not route_params


def _personal_id_route_parameters() -> list[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    return [r for r in walk(get_resolver().url_patterns) if "personal_id" in r]
