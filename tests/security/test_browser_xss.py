"""S12 in a real browser: staff pages showing hostile names open no dialog and run no payload."""

import re

import pytest
from django.conf import settings
from django.test import Client

from tests.e2e.browser import page  # noqa: F401  (fixture)
from tests.security.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_s12_no_payload_runs_in_chromium(live_server, page, proof):  # noqa: F811
    row = proof.row("S12", "Chromium opens the staff pages (list, each detail) with payload names as ministry admin")
    world = build_world()
    client = Client()
    client.force_login(world.actors["ministry_admin"])
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/staff/")
    assert "/accounts/" not in page.url, "not signed in"
    links = sorted(set(re.findall(r'href="(/staff/[0-9a-f-]{36}/)"', page.content())))
    urls = ["/", "/staff/", "/staff/?q=%3Cscript%3Ealert(9)%3C%2Fscript%3E", *links]
    for url in urls:
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
    shown = page.evaluate("document.body.innerText")
    fired = list(dialogs)
    page.evaluate("alert('probe')")  # the listener works: a real alert is seen
    assert dialogs[-1:] == ["probe"]
    dialogs = fired
    row.set(
        times=len(urls), figure=f"{len(urls)} pages opened, dialogs fired: {len(dialogs)}, script errors: {len(errors)}"
    )
    assert len(links) >= 9 and shown
    assert not dialogs and not errors, (dialogs, errors)
