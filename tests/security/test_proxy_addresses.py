"""T11 (issue 15, attack 11): behind the TLS proxy, the portal trusts exactly that proxy.

On main `.env.example` paired DJANGO_BEHIND_TLS_PROXY=1 with SSKDT_TRUSTED_PROXY_COUNT=0: every
request then came from the proxy's address, so the per-address login limit locked everybody out
at once and the access log recorded the proxy. Now the documented setup trusts one proxy (the
example, and the default behind the proxy), the inconsistent pair refuses to start, and with one
trusted proxy the limit and the records see the client — the last X-Forwarded-For entry, the one
the proxy appended — whatever the client wrote before it.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accesslog.models import AccessLogEntry
from accounts.models import AuthEvent
from tests import factories as f
from tests.conftest import enrol_totp
from tests.healthbook.book import factories as df
from tests.security.test_brute_force import _attempt, _limits, _refused_by_limit

ROOT = Path(__file__).resolve().parents[2]
PROXY = "10.0.0.1"  # the reverse proxy: the socket address of every request
CLIENT_A, CLIENT_B, CLIENT_C = "203.0.113.7", "198.51.100.9", "192.0.2.44"


def _example() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", text, re.M))


def _settings_in_child(tmp_path, **env) -> subprocess.CompletedProcess:
    """Start the production settings (config.settings) in a fresh interpreter with `env`, as a
    web process would, and print the trusted proxy count."""
    child = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SSKDT_"))}
    child.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="proxy-test-" + "s3cr3t" * 10,
        SSKDT_ACCESS_LOG_KEY="proxy-test-access-log-" + "k3y" * 12,
        SSKDT_VAR_DIR=str(tmp_path),
        **env,
    )
    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.django_db
def test_t11_the_portal_trusts_exactly_its_proxy(proof, tmp_path, client, login):
    row = proof.row(
        "T11",
        ".env.example's proxy settings started as a web process; behind the proxy with 0 trusted proxies; "
        "behind 1 trusted proxy: one client sprays logins (also writing a fake X-Forwarded-For hop), another "
        "signs in, a doctor opens a book",
    )
    # 1. The documented setup: the example's values, started as a web process.
    example = _example()
    documented = {k: v for k, v in example.items() if k in ("DJANGO_BEHIND_TLS_PROXY", "SSKDT_TRUSTED_PROXY_COUNT")}
    started = _settings_in_child(tmp_path, DJANGO_DEBUG="0", **documented)
    default_behind = _settings_in_child(tmp_path, DJANGO_DEBUG="0", DJANGO_BEHIND_TLS_PROXY="1")
    inconsistent = _settings_in_child(
        tmp_path, DJANGO_DEBUG="0", DJANGO_BEHIND_TLS_PROXY="1", SSKDT_TRUSTED_PROXY_COUNT="0"
    )
    example_count = started.stdout.strip() if started.returncode == 0 else f"refused ({started.stderr[-200:]})"
    default_count = default_behind.stdout.strip() if default_behind.returncode == 0 else "refused"
    refused_pair = inconsistent.returncode != 0 and "SSKDT_TRUSTED_PROXY_COUNT" in inconsistent.stderr

    # 2. One trusted proxy: every request arrives from PROXY with the client's address appended.
    limit = _limits()["ip"]
    fac = f.FacilityFactory(code="01001", province=f.province("01"))
    for n in range(limit + 5):
        f.doctor(fac, username=f"spray{n}")
    honest = f.doctor(fac, username="honest")
    enrol_totp(honest)
    with override_settings(ALLAUTH_TRUSTED_PROXY_COUNT=1):
        spray = Client(REMOTE_ADDR=PROXY)
        limited_from = None
        for n in range(limit + 5):
            # Client A writes its own hop in front; the proxy appends A's real address.
            response = _attempt(spray, f"spray{n}", "wrong", HTTP_X_FORWARDED_FOR=f"172.16.{n}.1, {CLIENT_A}")
            if limited_from is None and _refused_by_limit(response):
                limited_from = n + 1
        other = Client(REMOTE_ADDR=PROXY)
        wrong_b = _attempt(other, "honest", "wrong", HTTP_X_FORWARDED_FOR=CLIENT_B)
        right_b = _attempt(other, "honest", f.TEST_PASSWORD, HTTP_X_FORWARDED_FOR=CLIENT_B)
        b_limited = _refused_by_limit(wrong_b) or _refused_by_limit(right_b)
        b_in = right_b.status_code == 302 and right_b["Location"] == reverse("mfa_authenticate")

        doctor = f.doctor(fac, username="reader")
        person = df.citizen(name="Người Qua Proxy", province=fac.province)
        df.visit(person.book, fac, dx="J06")
        reader = login(doctor)
        opened = reader.get(
            reverse("book-detail", kwargs={"public_id": person.book.public_id}),
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"8.8.8.8, {CLIENT_C}",
        )
    failed_ips = set(AuthEvent.objects.filter(kind=AuthEvent.Kind.LOGIN_FAILED).values_list("ip_address", flat=True))
    logged_ips = set(AccessLogEntry.objects.filter(actor_username="reader").values_list("source_ip", flat=True))
    row.set(
        times=3 + limit + 5 + 3,
        figure=f".env.example trusts {example_count} proxy, the default behind the proxy {default_count}; "
        f"behind with 0: {'refused to start' if refused_pair else 'STARTED'}; client A limited from attempt "
        f"{limited_from} (limit {limit}/address), client B limited: {'YES' if b_limited else 'no'}; "
        f"failed-login addresses {sorted(failed_ips)}; access-log addresses {sorted(logged_ips)}",
    )
    assert example.get("DJANGO_BEHIND_TLS_PROXY") != "1" or example.get("SSKDT_TRUSTED_PROXY_COUNT") not in ("", "0")
    assert (started.returncode, example_count, default_count) == (0, "1", "1"), started.stderr[-500:]
    assert refused_pair, inconsistent.stderr[-500:]
    assert limited_from is not None and limited_from <= limit + 1
    assert not b_limited and b_in
    assert failed_ips == {CLIENT_A, CLIENT_B}
    assert opened.status_code == 200 and logged_ips == {CLIENT_C}
