"""Generated over the URL resolver (S6, S8, S26): every URL under the book prefixes belongs
to a view that declared itself (healthbook.access.book_view_register), and each declared
view is called here as an allowed and a refused caller — it must decide access and write
exactly one access-log entry each time, and a refused body holds no clinical detail.

A new view under /doctor/, /api/v1/citizens/ or /fhir/Patient that forgets the decorator,
or declares itself without checking or logging, fails this suite. A new URL parameter needs
a sample value in SAMPLES.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from healthbook.book.access import BOOK_URL_PREFIXES
from tests.healthbook.book.conftest import facility_headers, log_count

pytestmark = pytest.mark.django_db


def _walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p


def book_urls() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in _walk(get_resolver().url_patterns) if r.lstrip("^").startswith(BOOK_URL_PREFIXES)]


def kind_of(callback) -> str | None:
    return getattr(callback, "book_access", None) or getattr(getattr(callback, "cls", None), "book_access", None)


ROUTES = book_urls()


def test_the_book_prefixes_have_urls():
    assert len(ROUTES) >= 14


@pytest.mark.parametrize("route,pattern", ROUTES, ids=[r for r, _ in ROUTES])
def test_every_book_url_is_declared(route, pattern):
    assert kind_of(pattern.callback) in {"book", "search", "lookup", "emergency", "share_code", "citizen_log"}, (
        f"{route} touches citizen data but its view does not declare how it checks access and logs"
    )


def _samples(patient, visit):
    from healthbook.models import DischargePaper

    return {
        "kind": "discharge",
        "cert_id": DischargePaper.objects.get(encounter=visit).pk,
        "public_id": patient.book.public_id,
        "book": patient.book.public_id,
        "visit_id": visit.pk,
        "code": "GLU",
        "personal_id": patient.personal_id,
        "id": str(patient.book.public_id),
    }


def _url(route: str, pattern: URLPattern, samples: dict) -> str:
    from django.urls import reverse

    missing = set(pattern.pattern.converters) - set(samples)
    assert not missing, f"add a sample value for {missing} to test {route}"
    kwargs = {k: samples[k] for k in pattern.pattern.converters}
    return reverse(pattern.name, kwargs=kwargs) + QUERY.get(pattern.name, "")


# Views that read what they show from the query string (a lab code may hold "/": issue 15, T14).
QUERY = {"book-lab-chart": "?code=GLU"}


FORBIDDEN_IN_REFUSALS = ("Huyết áp 150/95", "I10", "Glucose")


@pytest.mark.parametrize("route,pattern", ROUTES, ids=[r for r, _ in ROUTES])
def test_every_book_url_checks_access_and_logs_once(
    route,
    pattern,
    client,
    login,
    doctor_a,
    doctor_b,
    officer_hanoi,
    patient_a,
    key_a,
    key_b,
    citizen_app_key,
    django_user_model,
):
    from healthbook.models import Encounter

    visit = Encounter.objects.get(book=patient_a.book)
    url = _url(route, pattern, _samples(patient_a, visit))
    kind = kind_of(pattern.callback)
    is_api = route.startswith(("api/", "fhir/"))

    def once(response_status, call):
        before = log_count()
        response = call()
        assert response.status_code in response_status, (url, response.status_code)
        assert log_count() == before + 1, f"{url} wrote {log_count() - before} access-log entries, not 1"
        return response

    # Personal IDs travel in request bodies, never in URLs (issue 15).
    assert patient_a.personal_id not in url
    body = {"personal_id": patient_a.personal_id}
    if kind == "citizen_log":
        key = f"Citizen-App-Key {citizen_app_key}"
        once({200}, lambda: client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=key))
        foreign = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key_a}")
        assert foreign.status_code in (401, 403)
        return
    if kind == "search":
        login(doctor_a)
        # An exact personal ID jumps straight to the book (issue 18): the search itself is logged once.
        found = once({302}, lambda: client.post(url, {"q": patient_a.personal_id}))
        assert str(patient_a.book.public_id) in found["Location"]
        client.logout()
        login(officer_hanoi)
        refused = client.post(url, {"q": patient_a.personal_id})
        assert refused.status_code in (403, 404) and patient_a.full_name not in refused.content.decode()
        return
    if kind == "lookup":
        found = once(
            {200},
            lambda: client.post(url, body, content_type="application/json", **facility_headers(key_a, "doctor_a")),
        )
        assert found.json()["book"] == str(patient_a.book.public_id)
        refused = once(
            {403}, lambda: client.post(url, body, content_type="application/json", **facility_headers(key_a, "nobody"))
        )
        assert patient_a.full_name not in refused.content.decode()
        return
    if kind == "emergency":
        login(officer_hanoi)
        once({404}, lambda: client.post(url, {"reason": "unconscious"}))
        client.logout()
        login(doctor_b)
        once({400}, lambda: client.post(url, {"reason": ""}))
        once({302}, lambda: client.post(url, {"reason": "unconscious"}))
        return
    if kind == "share_code":
        from healthbook.consent.services import by_citizen, share_code_issue

        login(officer_hanoi)
        once({404}, lambda: client.post(url, {"code": "ABCD-EFGH"}))
        client.logout()
        login(doctor_b)
        once({400}, lambda: client.post(url, {"code": "ABCD-EFGH"}))
        issued = share_code_issue(patient_a, facility=doctor_b.facility, by=by_citizen())
        once({302}, lambda: client.post(url, {"code": issued.code}))
        return
    assert kind == "book"
    if is_api:
        once({200}, lambda: client.get(url, **facility_headers(key_a, "doctor_a")))
        refused = once({403}, lambda: client.get(url, **facility_headers(key_b, "doctor_b")))
        once({403}, lambda: client.get(url, **facility_headers(key_a, "nobody")))
    else:
        login(doctor_a)
        once({200}, lambda: client.get(url))
        client.logout()
        login(doctor_b)
        refused = once({403}, lambda: client.get(url))
        client.logout()
        login(officer_hanoi)
        hidden = once({404}, lambda: client.get(url))
        assert patient_a.full_name not in hidden.content.decode()
    body = refused.content.decode()
    assert not any(text in body for text in FORBIDDEN_IN_REFUSALS), f"{url} refused but leaked clinical detail"
    assert patient_a.personal_id not in body
