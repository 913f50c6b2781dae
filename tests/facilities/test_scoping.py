"""A province officer never sees or acts on another province's facilities: one test per action.

officer_hanoi (01) against facility_b / pending_hcm (79) must get 404 everywhere (not 403,
which would reveal that the facility exists); actors without the right role on a facility
they may see get 403.
"""

import io

import pytest
from django.urls import reverse

from facilities import certificates, credentials
from facilities.models import FacilityStatus

from .conftest import make_certificate_pem

S = FacilityStatus


def listed(response) -> set[str]:
    return {facility.code for facility, _silent in response.context["rows"]}


@pytest.fixture
def hanoi(login, officer_hanoi):
    return login(officer_hanoi)


def test_list_hides_other_province(hanoi, facility_a, facility_b):
    codes = listed(hanoi.get(reverse("facility-list")))
    assert facility_a.code in codes and facility_b.code not in codes


def test_list_province_filter_cannot_reach_other_province(hanoi, facility_b):
    assert listed(hanoi.get(reverse("facility-list"), {"province": "79"})) == set()


def test_search_cannot_reach_other_province(hanoi, facility_b):
    assert listed(hanoi.get(reverse("facility-list"), {"q": facility_b.code})) == set()


def test_detail_of_other_province_is_404(hanoi, facility_b):
    assert hanoi.get(reverse("facility-detail", args=[facility_b.code])).status_code == 404


def test_edit_of_other_province_is_404(hanoi, facility_b):
    url = reverse("facility-edit", args=[facility_b.code])
    assert hanoi.get(url).status_code == 404
    assert hanoi.post(url, {"name": "Đổi tên"}).status_code == 404


@pytest.mark.parametrize("action", ["approve", "reject", "suspend", "reinstate", "close"])
def test_decisions_on_other_province_are_404(hanoi, pending_hcm, action):
    response = hanoi.post(reverse("facility-decide", args=[pending_hcm.code, action]), {"reason": "x"})
    assert response.status_code == 404
    pending_hcm.refresh_from_db()
    assert pending_hcm.status == S.PENDING


def test_queue_hides_other_province(hanoi, pending_hanoi, pending_hcm):
    body = hanoi.get(reverse("facility-queue")).content.decode()
    assert pending_hanoi.code in body and pending_hcm.code not in body


def test_credentials_of_other_province_are_404(hanoi, facility_b):
    assert hanoi.get(reverse("facility-credentials", args=[facility_b.code])).status_code == 404


def test_key_create_for_other_province_is_404(hanoi, facility_b):
    response = hanoi.post(reverse("facility-key-create", args=[facility_b.code]), {"name": "x"})
    assert response.status_code == 404
    assert not facility_b.api_keys.exists()


def test_key_revoke_for_other_province_is_404(hanoi, approved_b):
    new = credentials.api_key_create(facility=approved_b, name="HIS", acting_user=None)
    response = hanoi.post(reverse("facility-key-revoke", args=[approved_b.code, new.row.public_id]))
    assert response.status_code == 404
    new.row.refresh_from_db()
    assert new.row.revoked_at is None


def test_cert_add_for_other_province_is_404(hanoi, facility_b, certificate_pem):
    upload = io.BytesIO(certificate_pem)
    upload.name = "c.pem"
    assert hanoi.post(reverse("facility-cert-add", args=[facility_b.code]), {"pem": upload}).status_code == 404


def test_cert_revoke_for_other_province_is_404(hanoi, facility_b, test_ca):
    pem = make_certificate_pem(code=facility_b.code)
    cert = certificates.certificate_add(facility=facility_b, pem=pem, acting_user=None)
    assert hanoi.post(reverse("facility-cert-revoke", args=[facility_b.code, cert.public_id])).status_code == 404
    cert.refresh_from_db()
    assert cert.revoked_at is None


def test_export_leaves_out_other_province(hanoi, facility_a, facility_b):
    body = hanoi.get(reverse("facility-export"), {"format": "csv", "province": "79"}).content.decode()
    assert facility_b.code not in body
    body = hanoi.get(reverse("facility-export"), {"format": "csv"}).content.decode()
    assert facility_a.code in body and facility_b.code not in body


def test_register_in_other_province_refused(hanoi, officer_hanoi):
    from tests import factories as f

    response = hanoi.post(
        reverse("facility-register"),
        {
            "code": "79111",
            "province": f.province("79").pk,
            "name": "Lạc tỉnh",
            "ownership": "public",
            "level": "other",
        },
    )
    assert response.status_code == 200  # form redisplayed with the error
    from facilities.models import Facility

    assert not Facility.objects.filter(code="79111").exists()


def test_import_row_of_other_province_refused(hanoi):
    content = "code,name,province\n79222,Cơ sở lạc tỉnh,79\n".encode()
    upload = io.BytesIO(content)
    upload.name = "f.csv"
    response = hanoi.post(reverse("facility-import"), {"file": upload})
    from facilities.models import Facility

    assert not Facility.objects.filter(code="79222").exists()
    assert response.context["report"].problems


def test_api_list_hides_other_province(hanoi, facility_a, facility_b):
    data = hanoi.get("/api/v1/facilities/", {"province": "79"}).json()
    assert data["count"] == 0
    codes = [r["code"] for r in hanoi.get("/api/v1/facilities/").json()["results"]]
    assert facility_a.code in codes and facility_b.code not in codes


def test_api_detail_of_other_province_is_404(hanoi, facility_b):
    response = hanoi.get(f"/api/v1/facilities/{facility_b.code}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("resource", ["Organization", "Location"])
def test_fhir_read_of_other_province_is_404(hanoi, facility_b, resource):
    response = hanoi.get(f"/fhir/{resource}/{facility_b.code}")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


# --- role checks on facilities the actor can see ---------------------------------------


def test_ministry_sees_all_but_cannot_decide(login, ministry_admin, pending_hanoi, pending_hcm):
    client = login(ministry_admin)
    assert {pending_hanoi.code, pending_hcm.code} <= listed(client.get(reverse("facility-list")))
    assert client.post(reverse("facility-decide", args=[pending_hcm.code, "approve"])).status_code == 403


def test_facility_admin_cannot_decide_on_own_facility(login, facility_admin_a, facility_a):
    client = login(facility_admin_a)
    assert client.post(reverse("facility-decide", args=[facility_a.code, "close"]), {"reason": "x"}).status_code == 403


def test_facility_admin_cannot_see_other_facility(login, facility_admin_a, facility_a2):
    client = login(facility_admin_a)
    assert client.get(reverse("facility-detail", args=[facility_a2.code])).status_code == 404
    assert client.get(reverse("facility-credentials", args=[facility_a2.code])).status_code == 404


def test_officer_cannot_manage_credentials_of_own_province(hanoi, facility_a):
    assert hanoi.get(reverse("facility-credentials", args=[facility_a.code])).status_code == 403


def test_doctor_cannot_open_queue_or_import(login, doctor_a):
    client = login(doctor_a)
    assert client.get(reverse("facility-queue")).status_code == 403
    assert client.get(reverse("facility-import")).status_code == 403


def test_outsider_is_refused(login, outsider, facility_a):
    client = login(outsider)
    assert client.get(reverse("facility-list")).status_code == 403
    assert client.get(reverse("facility-detail", args=[facility_a.code])).status_code == 403
    assert client.get("/api/v1/facilities/").status_code == 403


def test_anonymous_is_sent_to_login(client, facility_a):
    response = client.get(reverse("facility-detail", args=[facility_a.code]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
