import datetime as dt
import hashlib
import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.authentication import FacilityApiKeyAuthentication, FacilityPrincipal, IsFacilityClient
from facilities import certificates, credentials
from facilities.models import FacilityApiKey, FacilityCertificate

from .conftest import make_certificate_pem


class Probe(APIView):
    """A stand-in for the intake endpoints: facility software only."""

    authentication_classes = [FacilityApiKeyAuthentication]
    permission_classes = [IsFacilityClient]

    def get(self, request):
        assert isinstance(request.user, FacilityPrincipal)
        return Response(
            {
                "facility": request.user.facility.code,
                "role": request.user.role,
                "key": request.auth.prefix,
                "authenticated": request.user.is_authenticated,
            }
        )


def call(key=None, header=None):
    request = APIRequestFactory().get("/probe/", HTTP_AUTHORIZATION=header or f"Api-Key {key}")
    response = Probe.as_view()(request)
    response.render()
    return response


def test_key_is_stored_only_as_sha256(approved_a):
    new = credentials.api_key_create(facility=approved_a, name="HIS", acting_user=None)
    row = FacilityApiKey.objects.get(pk=new.row.pk)
    assert row.key_hash == hashlib.sha256(new.key.encode()).hexdigest()
    assert new.key not in str(FacilityApiKey.objects.filter(pk=row.pk).values().get())
    assert re.fullmatch(r"sskdt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", new.key)


def test_valid_key_authenticates_as_facility_principal(approved_a):
    new = credentials.api_key_create(facility=approved_a, name="HIS", acting_user=None)
    response = call(new.key)
    assert response.status_code == 200
    assert response.data == {"facility": approved_a.code, "role": "", "key": new.row.prefix, "authenticated": True}


def test_revoked_key_gets_401_at_once(approved_a):
    new = credentials.api_key_create(facility=approved_a, name="HIS", acting_user=None)
    assert call(new.key).status_code == 200
    credentials.api_key_revoke(api_key=new.row, acting_user=None)
    response = call(new.key)
    assert response.status_code == 401
    assert response.data["code"] == "authentication_failed"
    assert set(response.data) == {"code", "message", "details"}
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("key", ["nonsense", "sskdt_000000000000_" + "x" * 43, ""])
def test_unknown_or_malformed_key_gets_401(approved_a, key):
    assert call(key).status_code == 401


def test_tampered_secret_gets_401(approved_a):
    new = credentials.api_key_create(facility=approved_a, name="HIS", acting_user=None)
    assert call(new.key[:-1] + ("A" if new.key[-1] != "A" else "B")).status_code == 401


def test_missing_header_gets_401(approved_a):
    response = Probe.as_view()(APIRequestFactory().get("/probe/"))
    assert response.status_code == 401


def test_staff_session_is_not_a_facility_client(approved_a):
    assert call(header="Bearer abc").status_code == 401


def test_pending_facility_key_is_refused_with_403(pending_hanoi):
    new = credentials.api_key_create(facility=pending_hanoi, name="HIS", acting_user=None)
    response = call(new.key)
    assert response.status_code == 403 and response.data["code"] == "facility_not_active"


def test_several_keys_overlap_for_rotation(approved_a):
    old = credentials.api_key_create(facility=approved_a, name="old", acting_user=None)
    new = credentials.api_key_create(facility=approved_a, name="new", acting_user=None)
    assert call(old.key).status_code == 200 and call(new.key).status_code == 200
    credentials.api_key_revoke(api_key=old.row, acting_user=None)
    assert call(old.key).status_code == 401 and call(new.key).status_code == 200


def test_last_used_is_written_at_most_once_a_minute(approved_a, django_assert_num_queries):
    new = credentials.api_key_create(facility=approved_a, name="HIS", acting_user=None)
    with django_assert_num_queries(2):  # lookup + first "last used"
        assert credentials.api_key_authenticate(new.key)
    with django_assert_num_queries(1):  # lookup only
        assert credentials.api_key_authenticate(new.key)
    FacilityApiKey.objects.filter(pk=new.row.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
    with django_assert_num_queries(2):
        assert credentials.api_key_authenticate(new.key)


def test_only_own_facility_admin_creates_keys(facility_admin_a, facility_admin_b, officer_hanoi, facility_a):
    credentials.api_key_create(facility=facility_a, name="HIS", acting_user=facility_admin_a)
    for user in (facility_admin_b, officer_hanoi):
        with pytest.raises(PermissionDenied):
            credentials.api_key_create(facility=facility_a, name="x", acting_user=user)


def test_duplicate_active_key_name_refused(facility_a):
    credentials.api_key_create(facility=facility_a, name="HIS", acting_user=None)
    with pytest.raises(ValidationError):
        credentials.api_key_create(facility=facility_a, name="HIS", acting_user=None)


def test_command_prints_the_key_and_nothing_else(approved_a, capsys):
    call_command("facility_key", "create", "--facility", approved_a.code, "--name", "HIS server")
    out = capsys.readouterr()
    key = out.out.strip()
    assert out.out == key + "\n" and re.fullmatch(r"sskdt_\S+", key)
    assert call(key).status_code == 200


def test_command_refuses_unknown_facility(db):
    with pytest.raises(CommandError):
        call_command("facility_key", "create", "--facility", "99999", "--name", "x")


# --- certificates -------------------------------------------------------------------------


def test_certificate_facts_are_parsed(facility_a, certificate_pem):
    cert = certificates.certificate_add(facility=facility_a, pem=certificate_pem, acting_user=None)
    assert "CN=Bệnh viện Thử nghiệm A" in cert.subject and "EHB TEST CA" in cert.issuer
    assert cert.is_trusted and cert.trust == "anchored"
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", cert.fingerprint_sha256)
    assert cert.not_before < timezone.now() < cert.not_after
    assert cert.pem.startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize(
    "garbage, code",
    [
        (b"hello", "pem_invalid"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "pem_invalid"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "pem_has_private_key"),
        (b"\x00\xff" * 10, "pem_invalid"),
    ],
)
def test_garbage_pem_is_refused_with_a_reason(facility_a, garbage, code):
    with pytest.raises(ValidationError) as exc:
        certificates.certificate_add(facility=facility_a, pem=garbage, acting_user=None)
    assert exc.value.code == code and exc.value.messages[0]
    assert not FacilityCertificate.objects.exists()


def test_several_certificates_and_revoked_ones_kept_for_old_data(facility_a, test_ca):
    old = certificates.certificate_add(
        facility=facility_a, pem=make_certificate_pem(days=30, start_days_ago=60), acting_user=None
    )
    current = certificates.certificate_add(facility=facility_a, pem=make_certificate_pem(), acting_user=None)
    assert old.is_expired and not current.is_expired
    certificates.certificate_revoke(certificate=current, acting_user=None, reason="Lộ khóa")
    signed_long_ago = timezone.now() - dt.timedelta(days=45)
    assert list(certificates.certificates_valid_at(facility=facility_a, at=signed_long_ago)) == [old]
    assert set(facility_a.certificates.all()) == {old, current}
    assert not certificates.certificates_valid_at(facility=facility_a, at=timezone.now()).exists()


def test_same_certificate_twice_refused(facility_a, certificate_pem):
    certificates.certificate_add(facility=facility_a, pem=certificate_pem, acting_user=None)
    with pytest.raises(ValidationError):
        certificates.certificate_add(facility=facility_a, pem=certificate_pem, acting_user=None)


def test_cert_command_adds_and_rejects(facility_a, certificate_pem, tmp_path, capsys):
    good = tmp_path / "c.pem"
    good.write_bytes(certificate_pem)
    call_command("facility_cert", "add", "--facility", facility_a.code, "--pem", str(good))
    assert facility_a.certificates.count() == 1
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"garbage")
    with pytest.raises(CommandError, match="PEM"):
        call_command("facility_cert", "add", "--facility", facility_a.code, "--pem", str(bad))


# --- pages --------------------------------------------------------------------------------


def test_key_is_shown_once_on_the_page(login, facility_admin_a, facility_a):
    client = login(facility_admin_a)
    response = client.post(reverse("facility-key-create", args=[facility_a.code]), {"name": "HIS"})
    # post-redirect-get: a refresh of the page does not create a second key (issue 18)
    assert response.status_code == 302
    assert response["Location"] == reverse("facility-credentials", args=[facility_a.code])
    shown = client.get(response["Location"])
    key = shown.context["new_key"]["key"]
    page = shown.content.decode()
    assert key in page and "no-store" in shown["Cache-Control"]
    assert 'data-copy-target="new-key-value"' in page
    assert "Authorization: Api-Key &lt;khóa&gt;" in page
    again = client.get(reverse("facility-credentials", args=[facility_a.code])).content.decode()
    assert key not in again and facility_a.api_keys.get().prefix in again
    assert facility_a.api_keys.count() == 1


def test_revoke_from_page(login, facility_admin_a, approved_a):
    client = login(facility_admin_a)
    new = credentials.api_key_create(facility=approved_a, name="HIS", acting_user=facility_admin_a)
    client.post(reverse("facility-key-revoke", args=[approved_a.code, new.row.public_id]))
    assert call(new.key).status_code == 401


def test_garbage_upload_shows_message(login, facility_admin_a, facility_a):
    client = login(facility_admin_a)
    upload = io.BytesIO(b"not a certificate")
    upload.name = "x.pem"
    response = client.post(reverse("facility-cert-add", args=[facility_a.code]), {"pem": upload})
    assert response.status_code == 400
    assert "BEGIN CERTIFICATE" in response.content.decode()
