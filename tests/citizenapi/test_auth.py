"""The platform's token: signature, audience, lifetime, replay, subject and guardians."""

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from citizenapi.auth import CitizenContext, CitizenPlatformPrincipal, CitizenTokenRefused, citizen_token_authenticate
from citizenapi.services import platform_key_revoke
from citizenapi.tokens import b64url, token_sign
from tests.citizenapi.conftest import minutes_ago
from tests.healthbook.book import factories as df

pytestmark = pytest.mark.django_db


def refused(token) -> str:
    with pytest.raises(CitizenTokenRefused) as exc:
        citizen_token_authenticate(token)
    assert exc.value.status_code == 401
    return exc.value.error_code


def test_a_good_token_names_the_citizen(platform, django_assert_num_queries):
    person = df.citizen()
    token = platform.token(person.personal_id)
    with django_assert_num_queries(5):  # key, savepoint + token id + release, citizen
        principal, context = citizen_token_authenticate(token)
    assert isinstance(principal, CitizenPlatformPrincipal)
    assert principal.role == "" and not principal.has_perm("healthbook.view_citizen")
    assert isinstance(context, CitizenContext)
    assert context.citizen_id == person.pk and not context.acting_for_child and context.relationship is None
    assert context.subject_pid_masked.endswith(person.personal_id[-3:])
    assert person.personal_id not in context.subject_pid_masked


def test_a_replayed_token_is_refused(platform):
    person = df.citizen()
    token = platform.token(person.personal_id)
    citizen_token_authenticate(token)
    assert refused(token) == "token_replayed"


def test_expired_long_and_future_tokens_are_refused(platform):
    person = df.citizen()
    assert refused(platform.token(person.personal_id, now=minutes_ago(10))) == "token_expired"
    assert refused(platform.token(person.personal_id, lifetime=3600)) == "token_lifetime_too_long"
    future = timezone.now() + dt.timedelta(minutes=5)
    assert refused(platform.token(person.personal_id, now=future)) == "token_not_yet_valid"


def test_signature_audience_issuer_and_algorithm(platform):
    person = df.citizen()
    pid = person.personal_id
    forged = token_sign(
        {"iss": "https://vneid.test", "aud": "sskdt-citizen-api", "sub": pid, "iat": 1, "exp": 2, "jti": "x" * 10},
        Ed25519PrivateKey.generate(),
        kid=platform.row.kid,
    )
    assert refused(forged) == "bad_signature"
    assert refused(platform.token(pid, aud="someone-else")) == "wrong_audience"
    assert refused(platform.token(pid, iss="https://other.test")) == "wrong_issuer"
    head = b64url(json.dumps({"alg": "none", "kid": platform.row.kid}).encode())
    body = platform.token(pid).split(".")[1]
    assert refused(f"{head}.{body}.") == "unsupported_algorithm"
    head = b64url(json.dumps({"alg": "HS256", "kid": platform.row.kid}).encode())
    assert refused(f"{head}.{body}.AAAA") == "unsupported_algorithm"
    assert refused("not-a-token") == "malformed_token"
    platform_key_revoke(kid=platform.row.kid)
    assert refused(platform.token(pid)) == "unknown_key"


def test_subject_must_be_a_known_valid_personal_id(platform):
    assert refused(platform.token("12345")) == "invalid_subject"
    assert refused(platform.token("001199999999")) == "unknown_citizen"


def test_a_parent_reads_for_a_child_under_14_not_for_a_15_year_old(platform):
    parent = df.citizen()
    today = timezone.localdate()
    child = df.citizen(name="Nguyễn Bé Nhỏ", birth=today - relativedelta(years=6))
    teen = df.citizen(name="Nguyễn Văn Lớn", birth=today - relativedelta(years=15))
    _p, context = citizen_token_authenticate(
        platform.token(parent.personal_id, act_for={"pid": child.personal_id, "relationship": "parent"})
    )
    assert context.citizen_id == child.pk and context.acting_for_child and context.relationship == "parent"
    assert context.subject_pid_masked.endswith(parent.personal_id[-3:])
    too_old = platform.token(parent.personal_id, act_for={"pid": teen.personal_id, "relationship": "guardian"})
    assert refused(too_old) == "child_too_old"
    odd = platform.token(parent.personal_id, act_for={"pid": child.personal_id, "relationship": "neighbour"})
    assert refused(odd) == "invalid_relationship"
