"""S6/S7, generated: every URL pattern x every role (and anonymous) x objects of another province.

The URL list comes from the resolver, the rules from url_rules.py, the objects and canaries from
world.py. A new URL without a rule fails `test_every_url_is_classified`.
"""

import re
import uuid

import pytest

from geo.models import Province
from tests.security import url_rules
from tests.security.conftest import body_text
from tests.security.crawl import endpoints, is_api
from tests.security.url_rules import Admin, Machine, Public, Roles, SignedIn
from tests.security.world import ACTOR_NAMES

ENDPOINTS = endpoints()
DENIED = (403, 404, 405)  # 405: the method is refused before the object is even looked up
MACHINE_REFUSED = (401, 403, 405)  # key-only endpoints: no session is a credential


def test_every_url_is_classified(proof):
    row = proof.row("S6", "every URL pattern has an access rule (deny-by-default census)")
    missing = [e.label for e in ENDPOINTS if e.rule is None]
    row.set(times=len(ENDPOINTS), figure=f"{len(ENDPOINTS)} URL patterns, {len(missing)} without a rule")
    assert not missing, (
        "These URL patterns have no access rule. Classify each one in tests/security/url_rules.py "
        "as Public(why), SignedIn(why), Roles((roles...)) or Roles((roles...), obj='<param provider>') "
        "for object-scoped views (and add a PARAMS provider that returns an object of ANOTHER province/"
        f"facility for each actor): {missing}"
    )


def _login_redirect(response) -> bool:
    return response.status_code == 302 and "login" in response.get("Location", "")


def _anonymous_refused(endpoint, response) -> bool:
    if response.status_code == 405:  # a method the view does not have: refused before sign-in is asked
        return True
    if is_api(endpoint):
        return response.status_code in (401, 403)
    return _login_redirect(response)


def _check(endpoint, actor_name, actor, response, *, foreign: bool, world) -> list[str]:
    """Return the problems with one response (empty when it is what the rule allows)."""
    rule, status, problems = endpoint.rule, response.status_code, []
    if status >= 500:
        problems.append(f"{status} server error")
    leaks = world.leaks_for(actor, body_text(response))
    if leaks:
        problems.append(f"leaks {[c.what for c in leaks]}")
    if isinstance(rule, Machine):
        if status not in MACHINE_REFUSED:
            problems.append(f"key-only endpoint answered {status} to a session ({actor_name})")
        return problems
    if isinstance(rule, Public):
        if foreign and status not in DENIED:
            problems.append(f"object hidden from {actor_name} answered {status}")
        return problems
    if actor is None:
        to_admin = isinstance(rule, Admin) and status == 302 and response["Location"].startswith("/django-admin/")
        if not (_anonymous_refused(endpoint, response) or to_admin):
            problems.append(f"anonymous got {status}")
        return problems
    if isinstance(rule, Admin):
        to_admin = status == 302 and response.get("Location", "").startswith("/django-admin/")
        if not (status in DENIED or _login_redirect(response) or to_admin):
            problems.append(f"non-staff {actor_name} got {status} from the admin")
    elif isinstance(rule, Roles):
        if actor.role not in rule.roles and status not in DENIED:
            problems.append(f"role {actor.role or '(none)'} not allowed, got {status}")
        elif foreign and status not in DENIED:
            problems.append(f"object of another province/facility answered {status}")
    return problems


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.label for e in ENDPOINTS])
def test_every_role_is_refused_outside_its_scope(endpoint, world, clients, proof):
    if endpoint.rule is None:
        pytest.fail(f"{endpoint.label}: no access rule (see test_every_url_is_classified)")
    rule = endpoint.rule
    requests = foreign_n = refused_n = 0
    problems = []
    for name in ACTOR_NAMES:
        actor = world.actors[name]
        values, foreign = {}, False
        if isinstance(rule, Roles | Public) and rule.obj:
            value = url_rules.PARAMS[rule.obj](world, actor)
            if isinstance(value, dict):
                values, foreign = value, True
            elif value is not None:
                values, foreign = {endpoint.params[0][0]: value}, True
        path = endpoint.path(values)
        methods = ["get"]
        if isinstance(rule, Roles | Machine):
            methods.append("post")  # writes on the same URL must be refused just the same
        for method in methods:
            response = getattr(clients[name], method)(path)
            requests += 1
            if foreign:
                foreign_n += 1
                anonymous_refused = actor is None and _anonymous_refused(endpoint, response)
                refused_n += response.status_code in DENIED or anonymous_refused
            problems += [
                f"{method.upper()} {path} as {name}: {p}"
                for p in _check(endpoint, name, actor, response, foreign=foreign, world=world)
            ]
    proof.tally(
        "S6",
        "GET and POST every URL as every role and anonymous, objects of another province/facility",
        times=requests,
        figure="{times} requests over {urls} URL patterns; {refused}/{foreign} foreign-object requests "
        "refused (403/404/405, login for anonymous); {wrong} wrong answers; {leaks} canary leaks",
        urls=1,
        refused=refused_n,
        foreign=foreign_n,
        wrong=sum("leaks" not in p for p in problems),
        leaks=sum("leaks" in p for p in problems),
    )
    assert not problems, "\n".join(problems)


# --- S7: responses must not depend on data the caller cannot see --------------------------------

_LISTS = [e for e in ENDPOINTS if not e.params and isinstance(e.rule, Roles | SignedIn)]
# Pages whose scope is national for a role by design, with the reason. Only that role is skipped.
NATIONAL_BY_DESIGN = {
    ("citizen-search", "doctor"): "issue 7 §1: a doctor finds any citizen in the country; results show only a "
    "minimal identity (name, birth year, sex, masked ID) and opening a book goes through the care-relationship "
    "rule and the access log (tests/healthbook/book)",
}
_NOISE = [
    re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'),
    re.compile(r"\b[A-Za-z0-9]{64}\b"),  # masked CSRF tokens (hx-headers, forms), new on every response
    re.compile(r"\b\d{2}/\d{2}/\d{4} \d{2}:\d{2}\b"),  # the printout header's minute: ticks between two requests
]


def _normalised(response, *values) -> str:
    text = body_text(response)
    for noise in _NOISE:
        text = noise.sub("", text)
    for value in values:
        text = text.replace(str(value), "VALUE")
    return text


@pytest.mark.parametrize("endpoint", _LISTS, ids=[e.label for e in _LISTS])
def test_filters_on_another_provinces_data_answer_as_if_it_did_not_exist(endpoint, world, clients, proof):
    quiet = Province.objects.exclude(code__in=["01", "79"]).order_by("code").first()
    secret = world.objects["doctor_b"]
    token = next(c.token for c in world.canaries if c.province == "79")
    fake = "zq" + uuid.uuid4().hex[:10]
    probes = [  # (params naming province-79 data, the same params naming nothing)
        ({"q": token, "search": token}, {"q": fake, "search": fake}),
        ({"province": "79", "province_code": "79"}, {"province": quiet.code, "province_code": quiet.code}),
        ({"facility": "79001", "facility_code": "79001"}, {"facility": "99999", "facility_code": "99999"}),
        ({"q": secret.username, "user": str(secret.public_id)}, {"q": "nobody_zz", "user": str(uuid.uuid4())}),
    ]
    compared = differ = 0
    problems = []
    for name in ACTOR_NAMES:
        actor = world.actors[name]
        if actor is None or actor.role in ("ministry_admin", "ministry_editor"):
            continue  # national roles may see province 79
        if (endpoint.name, actor.role) in NATIONAL_BY_DESIGN:
            continue
        for real, none in probes:
            r1 = clients[name].get(endpoint.path(), real)
            r2 = clients[name].get(endpoint.path(), none)
            compared += 1
            values = [*real.values(), *none.values()]
            if r1.status_code != r2.status_code or _normalised(r1, *values) != _normalised(r2, *values):
                differ += 1
                problems.append(
                    f"{endpoint.label} as {name}: {sorted(real)} tells province-79 data apart "
                    f"({r1.status_code} vs {r2.status_code})"
                )
    proof.tally(
        "S7",
        "filters/search naming another province's data vs naming nothing, every list URL x role",
        times=compared,
        figure="{times} response pairs compared, {differ} distinguishable",
        differ=differ,
    )
    assert not problems, "\n".join(problems)
