"""Issue 15, point 12 (T15): the strict Content-Security-Policy as Chromium enforces it.

The pages with scripts (htmx on every page, charts on the dashboards and the facility page, the
Swagger UI of the API) must run with no CSP violation, and htmx must still fetch and swap.
"""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.e2e.browser import page  # noqa: F401  (fixture)
from tests.security.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_t15_pages_run_under_the_strict_csp_in_chromium(live_server, page, proof):  # noqa: F811
    row = proof.row(
        "T15",
        "Chromium opens the scripted pages under the CSP; htmx fetches and swaps; an injected inline script is blocked",
    )
    world = build_world()
    client = Client()
    client.force_login(world.actors["ministry_admin"])
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    violations, errors = [], []
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text} @ {m.location}") if "Content Security Policy" in m.text else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/facilities/")
    assert "/accounts/" not in page.url, "not signed in"
    facility = re.search(r'href="(/facilities/\d{5}/)"', page.content())
    urls = ["/", "/staff/", "/dashboards/national/", "/api/docs/", "/accounts/email/", "/accounts/2fa/"]
    urls += [facility.group(1)] if facility else []
    headers_seen = 0
    for url in urls:
        response = page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        headers_seen += bool(response.headers.get("content-security-policy"))
    # The Swagger UI drew the operations (its init script is a file, not inline).
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock", timeout=15000)
    swagger_ok = page.locator(".opblock").count() > 0
    # htmx works: an element it processes fetches a page and swaps the answer in.
    page.goto(f"{live_server.url}/staff/")
    page.evaluate(
        """() => {
        const target = document.createElement('div'); target.id = 'htmx-probe'; document.body.append(target);
        const b = document.createElement('button'); b.id = 'htmx-go';
        b.setAttribute('hx-get', '/staff/'); b.setAttribute('hx-select', 'h1');
        b.setAttribute('hx-target', '#htmx-probe'); document.body.append(b); htmx.process(b); }"""
    )
    page.click("#htmx-go")
    page.wait_for_selector("#htmx-probe h1", timeout=10000)
    htmx_ok = True
    checked = len(violations)
    # The policy is live: a script element without src, added by the page, does not run.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.append(s); }"
    )
    blocked = page.evaluate("() => window.__ran === undefined")
    row.set(
        times=len(urls) + 2,
        figure=f"{len(urls)} pages (charts, Swagger UI, MFA, e-mail), CSP header on {headers_seen}; violations: "
        f"{checked}; script errors: {len(errors)}; Swagger UI drawn: {swagger_ok}; htmx swap: {htmx_ok}; "
        f"injected inline script blocked: {blocked}",
    )
    assert headers_seen == len(urls)
    assert checked == 0 and not errors, (violations, errors)
    assert swagger_ok and htmx_ok and blocked
