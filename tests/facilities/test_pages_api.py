import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization

from facilities import certificates, credentials
from facilities.health import facility_connection_event_record
from facilities.models import Facility, FacilityStatus
from tests import factories as f

S = FacilityStatus


@pytest.fixture
def many_hanoi(db):
    levels = ["commune_station", "private_clinic", "provincial"]
    for i in range(30):
        f.FacilityFactory(
            code=f"01{200 + i:03d}",
            name=f"Phòng khám Đa khoa Hòa Bình {i}",
            province=f.province("01"),
            level=levels[i % 3],
            ownership="private" if i % 2 else "public",
            status=S.APPROVED,
            approved_at=timezone.now(),
        )


def codes(response):
    return {facility.code for facility, _ in response.context["rows"]}


def test_search_without_diacritics(login, officer_hanoi, facility_a):
    client = login(officer_hanoi)
    assert codes(client.get(reverse("facility-list"), {"q": "benh vien thu nghiem"})) == {facility_a.code}
    assert codes(client.get(reverse("facility-list"), {"q": "BỆNH VIỆN"})) == {facility_a.code}
    decomposed = "bê\u0323nh"  # NFD input
    assert codes(client.get(reverse("facility-list"), {"q": decomposed})) == {facility_a.code}


@pytest.mark.parametrize("q", ["' OR 1=1--", "%", "_", "x" * 500, "\x00"])
def test_odd_search_input_is_harmless(login, officer_hanoi, facility_a, q):
    response = login(officer_hanoi).get(reverse("facility-list"), {"q": q})
    assert response.status_code == 200 and facility_a.code not in codes(response)


def test_filters(login, ministry_admin, many_hanoi, facility_b):
    client = login(ministry_admin)
    assert len(codes(client.get(reverse("facility-list"), {"level": "provincial", "province": "01"}))) == 10
    assert all(c.startswith("01") for c in codes(client.get(reverse("facility-list"), {"ownership": "private"})))
    assert codes(client.get(reverse("facility-list"), {"status": "pending"})) == {facility_b.code}


def test_silent_filter(login, officer_hanoi, approved_a, facility_a2):
    Facility.objects.filter(pk=facility_a2.pk).update(status=S.CONNECTED, approved_at=timezone.now())
    facility_connection_event_record(facility=approved_a, at=timezone.now() - dt.timedelta(days=9), accepted=True)
    client = login(officer_hanoi)
    assert codes(client.get(reverse("facility-list"), {"silent": "1"})) == {approved_a.code}
    assert approved_a.code not in codes(client.get(reverse("facility-list"), {"silent": "0"}))


def test_list_queries_are_bounded(login, ministry_admin, many_hanoi, django_assert_max_num_queries):
    client = login(ministry_admin)
    client.get(reverse("facility-list"))
    with django_assert_max_num_queries(16):
        response = client.get(reverse("facility-list"), {"q": "hoa binh", "silent": "0"})
    assert response.status_code == 200


def test_search_uses_trigram_index(many_hanoi):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        qs = Facility.objects.order_by().filter(search_text__contains="hoa binh")
        plan = qs.explain()
        cursor.execute("SET enable_seqscan = on")
    assert "facility_search_trgm" in plan


def test_detail_shows_history_chart_and_credentials(
    login, officer_hanoi, approved_a, certificate_pem, django_assert_max_num_queries
):
    credentials.api_key_create(facility=approved_a, name="HIS chính", acting_user=None)
    certificates.certificate_add(facility=approved_a, pem=certificate_pem, acting_user=None)
    facility_connection_event_record(facility=approved_a, accepted=True)
    client = login(officer_hanoi)
    client.get(reverse("facility-detail", args=[approved_a.code]))
    with django_assert_max_num_queries(18):
        response = client.get(reverse("facility-detail", args=[approved_a.code]))
    body = response.content.decode()
    series = json.loads(body.split('id="facility-health-data" type="application/json">')[1].split("</script>")[0])
    assert len(series["labels"]) == 90 and series["accepted"][-1] == 1
    assert "HIS chính" in body and "chart.umd.min.js" in body and "facility_detail.js" in body
    assert "Đã kết nối" in body  # Vietnamese status label


def test_officer_approves_from_queue(login, officer_hanoi, pending_hanoi):
    client = login(officer_hanoi)
    url = reverse("facility-decide", args=[pending_hanoi.code, "approve"])
    body = {"next": "queue", "reason": "Giấy phép hoạt động hợp lệ", "confirm": "on"}
    response = client.post(url, body)
    assert response.status_code == 302 and response["Location"] == reverse("facility-queue")
    pending_hanoi.refresh_from_db()
    assert pending_hanoi.status == S.APPROVED


def test_reject_without_reason_shows_message(login, officer_hanoi, pending_hanoi):
    client = login(officer_hanoi)
    client.post(reverse("facility-decide", args=[pending_hanoi.code, "reject"]))
    pending_hanoi.refresh_from_db()
    assert pending_hanoi.status == S.PENDING


def test_facility_admin_registers_through_page(login, facility_admin_a):
    client = login(facility_admin_a)
    response = client.post(
        reverse("facility-register"),
        {
            "code": "01090",
            "province": facility_admin_a.province_id,
            "name": "Phòng khám Mới",
            "ownership": "private",
            "level": "private_clinic",
            "has_insurance_contract": "on",
            "contact_email": "",
        },
    )
    assert response.status_code == 302
    facility = Facility.objects.get(code="01090")
    assert facility.status == S.PENDING and facility.has_insurance_contract


def test_register_form_shows_errors_accessibly(login, officer_hanoi):
    response = login(officer_hanoi).post(reverse("facility-register"), {"code": "12", "name": ""})
    body = response.content.decode()
    assert response.status_code == 200 and 'aria-invalid="true"' in body


def test_facility_admin_edits_profile(login, facility_admin_a, facility_a):
    client = login(facility_admin_a)
    response = client.post(
        reverse("facility-edit", args=[facility_a.code]),
        {
            "name": facility_a.name,
            "ownership": "public",
            "level": "provincial",
            "address": "Số 9 đường Mới",
        },
    )
    assert response.status_code == 302
    facility_a.refresh_from_db()
    assert facility_a.address == "Số 9 đường Mới" and facility_a.level == "provincial"


# --- API -------------------------------------------------------------------------------


def test_api_list_filters_and_pages(login, ministry_admin, many_hanoi, facility_b):
    client = login(ministry_admin)
    data = client.get("/api/v1/facilities/", {"province": "01", "level": "provincial"}).json()
    assert data["count"] == 10 and {r["level"] for r in data["results"]} == {"provincial"}
    page = client.get("/api/v1/facilities/", {"q": "hoa binh"}).json()
    assert page["count"] == 30 and len(page["results"]) == 30
    assert "is_silent" in page["results"][0]


def test_api_bad_filter_is_400(login, ministry_admin):
    response = login(ministry_admin).get("/api/v1/facilities/", {"status": "sleeping"})
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_api_needs_staff(client, facility_a):
    assert client.get("/api/v1/facilities/").status_code in (401, 403)


def test_fhir_organization_and_location_parse(login, officer_hanoi, approved_a):
    Facility.objects.filter(pk=approved_a.pk).update(
        latitude="21.028500", longitude="105.854200", contact_phone="0241234567", commune="Phường Hoàn Kiếm"
    )
    client = login(officer_hanoi)
    org = client.get(f"/fhir/Organization/{approved_a.code}")
    assert org["Content-Type"].startswith("application/fhir+json")
    organization = Organization.model_validate(org.json())
    assert organization.id == approved_a.code and organization.active is True
    assert organization.identifier[0].value == approved_a.code
    location = Location.model_validate(client.get(f"/fhir/Location/{approved_a.code}").json())
    assert location.status == "active" and float(location.position.latitude) == pytest.approx(21.0285)
    assert location.managingOrganization.reference == f"Organization/{approved_a.code}"


def test_fhir_readable_by_facility_software(approved_a, approved_b, pending_hanoi, client):
    key = credentials.api_key_create(facility=approved_a, name="HIS", acting_user=None).key
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    assert client.get(f"/fhir/Organization/{approved_b.code}", **headers).status_code == 200
    assert client.get(f"/fhir/Organization/{pending_hanoi.code}", **headers).status_code == 404
    response = client.get(f"/fhir/Location/{approved_b.code}", HTTP_AUTHORIZATION="Api-Key wrong")
    assert response.status_code == 401 and response.json()["resourceType"] == "OperationOutcome"


def test_fhir_suspended_location_status(login, ministry_admin, approved_a):
    Facility.objects.filter(pk=approved_a.pk).update(status=S.SUSPENDED)
    data = login(ministry_admin).get(f"/fhir/Location/{approved_a.code}").json()
    assert Location.model_validate(data).status == "suspended"


# --- demo data -----------------------------------------------------------------------------


def test_demo_command_is_idempotent_and_covers_everything(db):
    call_command("facilities_demo", "--i-know-this-creates-known-passwords")
    count = Facility.objects.count()
    call_command("facilities_demo", "--i-know-this-creates-known-passwords")
    assert Facility.objects.count() == count >= 290
    assert set(Facility.objects.values_list("status", flat=True)) == set(S.values)
    assert Facility.objects.values("province").distinct().count() == 34
    for facility in Facility.objects.filter(status=S.PENDING)[:5]:
        facility.full_clean()
