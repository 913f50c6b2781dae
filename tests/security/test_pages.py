"""Generated checks over every page each role reaches: S11 CSRF, S12 stored XSS, S13 exports, S16 headers."""

import csv
import io
import json
import re

import pytest
from django.test import Client, override_settings
from django.utils.html import escape

from tests.accounts.test_settings_guard import PRODUCTION_ENV, _run
from tests.security.conftest import body_text
from tests.security.crawl import crawl, endpoints
from tests.security.exports import EXPORTS, SPREADSHEET_TYPES
from tests.security.world import ACTOR_NAMES, XSS_PAYLOADS

UNSAFE = ("post", "put", "patch", "delete")
# Answers that refuse an unsafe request: 403 (CSRF or permission), 401, 404, and 405 from a
# GET-only endpoint (the method itself is not accepted). Anything else — above all 2xx and 3xx —
# means the request was acted on without a valid token.
REFUSED = (401, 403, 404, 405)

# Views that may accept an unsafe request without a CSRF token, and why. Only endpoints that do
# not use the session cookie belong here (e.g. a facility API authenticated by signature/key).
_FHIR_READ_OP = (
    "FHIR terminology operation: POST only carries the Parameters of a read (nothing is written); "
    "csrf_exempt in codelists/fhir.py so that FHIR clients can call it"
)
CSRF_EXEMPT = {
    "fhir-codesystem-lookup": _FHIR_READ_OP,
    "fhir-codesystem-validate-code": _FHIR_READ_OP,
    "fhir-valueset-expand": _FHIR_READ_OP,
    "fhir-conceptmap-translate": _FHIR_READ_OP,
}


def _csrf_clients(world):
    out = {}
    for name in ("doctor_a", "facility_admin_a", "officer_hanoi", "ministry_admin", "outsider"):
        client = Client(enforce_csrf_checks=True)
        client.force_login(world.actors[name])
        out[name] = client
    return out


def test_s11_no_unsafe_request_without_a_valid_csrf_token(world, proof):
    clients = _csrf_clients(world)
    targets = [e for e in endpoints() if e.label not in CSRF_EXEMPT]
    tried, accepted = 0, []
    for endpoint in targets:
        path = endpoint.path()
        for name, client in clients.items():
            for method in UNSAFE:
                response = getattr(client, method)(path, data={"language": "en", "role": "ministry_admin"})
                tried += 1
                if response.status_code not in REFUSED:
                    accepted.append(f"{method.upper()} {path} as {name}: {response.status_code}")
    # A token from another session, and a good token sent from a foreign origin.
    victim, attacker = clients["ministry_admin"], Client(enforce_csrf_checks=True)
    attacker.get("/accounts/login/")
    victim.get("/staff/")
    foreign_token = attacker.cookies["csrftoken"].value
    own_token = victim.cookies["csrftoken"].value
    variants = 0
    for endpoint in targets:
        path = endpoint.path()
        for headers in (
            {"HTTP_X_CSRFTOKEN": foreign_token},
            {"HTTP_X_CSRFTOKEN": own_token, "HTTP_ORIGIN": "https://evil.example"},
        ):
            response = victim.post(path, data={}, **headers)
            variants += 1
            if response.status_code not in REFUSED:
                accepted.append(f"POST {path} with {sorted(headers)}: {response.status_code}")
    proof.record(
        "S11",
        "every URL x POST/PUT/PATCH/DELETE x 5 signed-in roles without a token; "
        "another session's token; own token from a foreign Origin (refused: 401/403/404/405)",
        times=tried + variants,
        figure=f"{len(targets)} URL patterns, {tried + variants} unsafe requests, "
        f"{len(accepted)} accepted without a valid token ({len(CSRF_EXEMPT)} exempt by rule)",
    )
    assert not accepted, "\n".join(accepted[:40])


# --- S12 -----------------------------------------------------------------------------------------

RAW = [p for p in XSS_PAYLOADS if "<" in p]
_SCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
TEMPLATE_EVALUATED = "zz49zz"  # what "zz{{ 7|add:42 }}zz" would become if a name were rendered as a template


def test_s12_stored_payloads_render_inert_on_every_page(world, clients, proof):
    visits = crawl(clients)
    html_pages = [v for v in visits if "text/html" in v.response.get("Content-Type", "")]
    unsafe, shown = [], 0
    for visit in html_pages:
        text = body_text(visit.response)
        shown += any(escape(p) in text for p in RAW)
        for payload in RAW:
            if payload in text:
                unsafe.append(f"{visit.path} as {visit.actor}: raw {payload!r}")
        if _SCRIPT_URL.search(text):
            unsafe.append(f"{visit.path} as {visit.actor}: javascript: URL in an attribute")
        if TEMPLATE_EVALUATED in text:
            unsafe.append(f"{visit.path} as {visit.actor}: a stored name was evaluated as a template")
    proof.record(
        "S12",
        f"{len(world.hostile)} hostile names stored; every HTML page each role reaches (crawler)",
        times=len(html_pages) * len(XSS_PAYLOADS),
        figure=f"{len(html_pages)} pages x {len(XSS_PAYLOADS)} payloads, {shown} pages showing a payload "
        f"(escaped); unescaped or live: {len(unsafe)}",
    )
    assert shown > 0, "no crawled page showed a hostile name: the check would prove nothing"
    assert not unsafe, "\n".join(unsafe[:40])


# --- S13 -----------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def unsafe_cells(content: bytes, content_type: str) -> list[str]:
    """Cells an office program would run as a formula (text must be prefixed with ')."""
    cells = []
    if "csv" in content_type:
        for row in csv.reader(io.StringIO(content.decode("utf-8-sig", "replace"))):
            cells += row
    else:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += [c for c in row if isinstance(c, str)]
    return [c for c in cells if c.startswith(FORMULA_START) and not _numeric(c)]


def _numeric(cell: str) -> bool:
    return re.fullmatch(r"[+-]?\d+([.,]\d+)?", cell) is not None


def test_s13_exports_neutralise_formula_cells(world, clients, proof):
    responses = []
    for visit in crawl(clients):
        ctype = visit.response.get("Content-Type", "")
        if ctype.startswith(SPREADSHEET_TYPES):
            responses.append((f"{visit.path} as {visit.actor}", visit.response, ctype))
    not_exports = []
    for label, actor, fetch in EXPORTS:
        response = fetch(clients[actor], world)
        ctype = response.get("Content-Type", "")
        if response.status_code != 200 or not ctype.startswith(SPREADSHEET_TYPES):
            not_exports.append(f"{label}: {response.status_code} {ctype}")  # a check on nothing proves nothing
            continue
        responses.append((label, response, ctype))
    assert not not_exports, not_exports
    bad = []
    for label, response, ctype in responses:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        bad += [f"{label}: {cell!r}" for cell in unsafe_cells(content, ctype)]
    proof.record(
        "S13",
        "formula payloads (=HYPERLINK, +cmd, -1+1, @SUM, TAB=, CR=) in names; every CSV/XLSX export reached",
        times=len(responses),
        figure=f"{len(responses)} export responses checked ({len(EXPORTS)} registered, the rest crawled); "
        f"unsafe cells: {len(bad)}" + (" — no export exists yet" if not responses else ""),
    )
    assert not bad, "\n".join(bad[:40])


def test_s13_the_cell_check_itself_catches_formulas():
    sample = b'name\n=HYPERLINK("x")\n\'=safe\n-1\n@SUM(A1)\n'
    assert unsafe_cells(sample, "text/csv") == ['=HYPERLINK("x")', "@SUM(A1)"]


# --- S16 -----------------------------------------------------------------------------------------

SECURITY_KEYS = [
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "LANGUAGE_COOKIE_SECURE",
    "LANGUAGE_COOKIE_HTTPONLY",
    "LANGUAGE_COOKIE_SAMESITE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
    "DEBUG",
]


@pytest.fixture(scope="module")
def production_security_settings():
    """The security settings as config.settings computes them for production (DEBUG off, no overrides)."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{k: getattr(settings, k) for k in {SECURITY_KEYS!r}}}))"
    )
    result = _run(PRODUCTION_ENV, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _header_problems(visit) -> list[str]:
    r, out = visit.response, []
    if r.get("X-Content-Type-Options") != "nosniff":
        out.append("X-Content-Type-Options")
    if not r.get("Referrer-Policy"):
        out.append("Referrer-Policy")
    csp = r.get("Content-Security-Policy", "")
    if r.get("X-Frame-Options") not in ("DENY", "SAMEORIGIN") and "frame-ancestors" not in csp:
        out.append("X-Frame-Options / frame-ancestors")
    out += csp_problems(r)
    if "max-age=" not in r.get("Strict-Transport-Security", "") or "max-age=0" in r["Strict-Transport-Security"]:
        out.append("Strict-Transport-Security")
    if r.status_code >= 400 and "text/html" in r.get("Content-Type", ""):
        text = body_text(r)
        if "Traceback" in text or "DEBUG = True" in text:
            out.append("debug text in an error page")
    return out


def _directive(csp: str, name: str) -> list[str] | None:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0].lower() == name:
            return [w.lower() for w in words[1:]]
    return None


# A <script> without src that a browser would run (json_script's data blocks are not scripts).
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def csp_problems(response) -> list[str]:
    """A strict Content-Security-Policy (scripts from this origin only, no inline script, no eval,
    no plugins, not framed), and an HTML body that needs no exception to it (no inline script,
    no event-handler attribute)."""
    csp = response.get("Content-Security-Policy", "")
    if not csp:
        return ["Content-Security-Policy missing"]
    out = []
    script = _directive(csp, "script-src") or _directive(csp, "default-src")
    if script is None or "'self'" not in script:
        out.append("CSP script-src is not 'self'")
    elif any(w in script for w in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:")):
        out.append(f"CSP script-src too wide: {' '.join(script)}")
    if (_directive(csp, "object-src") or [""])[0] != "'none'":
        out.append("CSP object-src is not 'none'")
    if (_directive(csp, "frame-ancestors") or [""])[0] != "'none'":
        out.append("CSP frame-ancestors is not 'none'")
    if _directive(csp, "base-uri") is None:
        out.append("CSP base-uri missing")
    if "text/html" in response.get("Content-Type", "") and not getattr(response, "streaming", False):
        text = response.content.decode("utf-8", "replace")
        if INLINE_SCRIPT.search(text):
            out.append("inline <script> in the page")
        if INLINE_HANDLER.search(text):
            out.append("inline event-handler attribute in the page")
    return out


def _cookie_problems(response) -> list[str]:
    out = []
    for name, morsel in response.cookies.items():
        if morsel.value == "" and str(morsel["max-age"]) == "0":
            continue  # a deletion
        missing = [
            flag
            for flag, ok in (
                ("Secure", morsel["secure"]),
                ("HttpOnly", morsel["httponly"]),
                ("SameSite", str(morsel["samesite"]).lower() in ("lax", "strict")),
            )
            if not ok
        ]
        if missing:
            out.append(f"cookie {name} lacks {', '.join(missing)}")
    return out


def test_s16_headers_and_cookie_flags_on_every_page_under_production_settings(
    world, proof, production_security_settings
):
    assert production_security_settings.pop("DEBUG") is False
    with override_settings(**production_security_settings):
        clients = {}
        for name in ACTOR_NAMES:
            client = Client()
            if world.actors[name] is not None:
                client.force_login(world.actors[name])
            clients[name] = client
        visits = crawl(clients, secure=True)
        # Responses that set the other cookies: a real login and the two language switches.
        extra = Client()
        extra.get("/accounts/login/", secure=True)
        cookie_responses = [v.response for v in visits]
        cookie_responses.append(extra.post("/accounts/login/", {"login": "doctor_a", "password": "x"}, secure=True))
        cookie_responses.append(extra.post("/i18n/setlang/", {"language": "en", "next": "/"}, secure=True))
        cookie_responses.append(clients["doctor_a"].post("/language/", {"language": "en"}, secure=True))
    header_bad, cookie_bad = [], []
    for visit in visits:
        header_bad += [f"{visit.path} as {visit.actor}: {p}" for p in _header_problems(visit)]
    cookies_seen = 0
    for response in cookie_responses:
        cookies_seen += len(response.cookies)
        cookie_bad += _cookie_problems(response)
    csp = sum(not csp_problems(v.response) for v in visits)
    proof.record(
        "S16",
        "every page each role reaches, over HTTPS, production settings: headers and cookie flags",
        times=len(visits),
        figure=f"{len(visits)} responses, missing a header: {len(header_bad)}; {cookies_seen} cookies set, "
        f"missing a flag: {len(cookie_bad)}; strict CSP (no inline script) on {csp} of {len(visits)}",
    )
    assert not header_bad, "\n".join(header_bad[:40])
    assert not cookie_bad, "\n".join(sorted(set(cookie_bad)))


def test_s16_check_deploy_is_clean(proof):
    from tests.accounts.test_settings_guard import test_check_deploy_prints_no_warning_under_production_environment

    row = proof.row("S16", "manage.py check --deploy --fail-level WARNING, production environment")
    test_check_deploy_prints_no_warning_under_production_environment()
    row.set(times=1, figure="deploy warnings: 0 (tests/accounts/test_settings_guard.py)")
