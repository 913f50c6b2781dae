"""Issue 18, point 6: a facility administrator's key page survives a revisit; a province officer's
decisions say what they do and are confirmed on a page that records who and why; silent
facilities show their contact and can be reminded by e-mail once a day, in the officer's own
province only."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from facilities.models import FacilityReminder, FacilityStatus
from tests import factories as f

S = FacilityStatus


# --- API key: post-redirect-get, and the creation address opened again --------------------------


def test_opening_the_key_creation_address_creates_nothing(login, facility_admin_a, facility_a):
    client = login(facility_admin_a)
    url = reverse("facility-key-create", args=[facility_a.code])
    created = client.post(url, {"name": "HIS"})
    assert created.status_code == 302
    assert "new-key-value" in client.get(created["Location"]).content.decode()  # shown once
    revisit = client.get(url)  # the address bar, a bookmark or the history after the POST
    assert revisit.status_code == 302 and revisit["Location"] == reverse("facility-credentials", args=[facility_a.code])
    page = client.get(revisit["Location"])
    assert page.status_code == 200 and "new-key-value" not in page.content.decode()
    assert facility_a.api_keys.count() == 1
    assert "js/copy_button.js" in client.get(url, follow=True).content.decode()


# --- decisions: names, confirmation, who and why -----------------------------------------------


def test_the_detail_page_names_what_each_decision_does(login, officer_hanoi, approved_a):
    body = login(officer_hanoi).get(reverse("facility-detail", args=[approved_a.code])).content.decode()
    assert "Ngừng hoạt động cơ sở" in body and "Tạm đình chỉ cơ sở" in body
    assert ">Đóng<" not in body
    assert f'href="{reverse("facility-decide", args=[approved_a.code, "close"])}"' in body


@pytest.mark.parametrize(
    ("action", "target", "words"),
    [
        ("suspend", S.SUSPENDED, "bị từ chối cho đến khi"),
        ("close", S.CLOSED, "không thể hoàn tác"),
    ],
)
def test_suspend_and_close_need_a_confirmed_reason(login, officer_hanoi, approved_a, action, target, words):
    client = login(officer_hanoi)
    url = reverse("facility-decide", args=[approved_a.code, action])
    page = client.get(url)
    assert page.status_code == 200 and words in page.content.decode()
    assert client.post(url, {"reason": "Cơ sở giải thể"}).status_code == 400  # box not ticked
    assert client.post(url, {"confirm": "on"}).status_code == 400  # no reason
    approved_a.refresh_from_db()
    assert approved_a.status == S.APPROVED
    assert client.post(url, {"reason": "Cơ sở giải thể", "confirm": "on"}).status_code == 302
    approved_a.refresh_from_db()
    change = approved_a.status_changes.order_by("-at", "-pk").first()
    assert approved_a.status == target and change.actor == officer_hanoi and change.reason == "Cơ sở giải thể"


def test_approve_is_confirmed_and_records_who_and_why(login, pending_hanoi):
    officer = f.province_officer("01", username="officer_hanoi_2")
    client = login(officer)
    url = reverse("facility-decide", args=[pending_hanoi.code, "approve"])
    page = client.get(url + "?next=queue").content.decode()
    assert "Phê duyệt cơ sở" in page and 'name="confirm"' in page and 'value="queue"' in page
    assert client.post(url, {"next": "queue"}).status_code == 400
    pending_hanoi.refresh_from_db()
    assert pending_hanoi.status == S.PENDING
    done = client.post(url, {"next": "queue", "reason": "Giấy phép hợp lệ", "confirm": "on"})
    assert done["Location"] == reverse("facility-queue")
    change = pending_hanoi.status_changes.get(to_status=S.APPROVED)
    assert (change.actor, change.reason) == (officer, "Giấy phép hợp lệ")


def test_an_officer_of_another_province_cannot_open_the_decision_page(login, officer_hcm, approved_a):
    client = login(officer_hcm)
    for action in ("approve", "suspend", "close"):
        assert client.get(reverse("facility-decide", args=[approved_a.code, action])).status_code == 404
    approved_a.refresh_from_db()
    assert approved_a.status == S.APPROVED


# --- silent facilities: contact details and a reminder ------------------------------------------


@pytest.fixture
def silent_a(approved_a):
    approved_a.approved_at = timezone.now() - dt.timedelta(days=40)
    approved_a.contact_name, approved_a.contact_phone = "Chị Lan", "0241234567"
    approved_a.contact_email = "lienhe@bv-a.example.vn"
    approved_a.save(update_fields=["approved_at", "contact_name", "contact_phone", "contact_email"])
    return approved_a


def _remind(client, facility):
    return client.post(reverse("facility-silent-remind", args=[facility.code]), {"next": "/dashboards/province/01/"})


def test_a_reminder_goes_to_the_registered_contact_once_a_day(login, officer_hanoi, silent_a):
    client = login(officer_hanoi)
    first = _remind(client, silent_a)
    assert first.status_code == 302 and first["Location"] == "/dashboards/province/01/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lienhe@bv-a.example.vn"]
    assert "không gửi dữ liệu" in message.subject and "Kính gửi Chị Lan" in message.body
    assert "Sở Y tế" in message.body and f"/facilities/{silent_a.code}/" in message.body
    reminder = FacilityReminder.objects.get(facility=silent_a)
    assert reminder.sent_by == officer_hanoi and reminder.day == timezone.localdate()
    # A second click (or a colleague's) the same day sends nothing and says so.
    colleague = f.province_officer("01", username="officer_hanoi_2")
    again = _remind(login(colleague), silent_a)
    assert again.status_code == 302 and len(mail.outbox) == 1
    assert FacilityReminder.objects.filter(facility=silent_a).count() == 1
    shown = [str(m) for m in again.wsgi_request._messages]
    assert any("đã được nhắc hôm nay" in m for m in shown)


def test_an_officer_of_another_province_cannot_remind(login, officer_hcm, silent_a):
    assert _remind(login(officer_hcm), silent_a).status_code == 404
    assert mail.outbox == [] and not FacilityReminder.objects.exists()


def test_the_facility_admin_cannot_remind(login, facility_admin_a, silent_a):
    assert _remind(login(facility_admin_a), silent_a).status_code == 403
    assert mail.outbox == []


def test_no_reminder_without_an_email_or_to_a_facility_that_sends(login, officer_hanoi, silent_a, approved_b):
    client = login(officer_hanoi)
    silent_a.contact_email = ""
    silent_a.save(update_fields=["contact_email"])
    _remind(client, silent_a)
    silent_a.contact_email = "lienhe@bv-a.example.vn"
    silent_a.last_accepted_at = timezone.now()
    silent_a.save(update_fields=["contact_email", "last_accepted_at"])
    _remind(client, silent_a)
    assert mail.outbox == [] and not FacilityReminder.objects.exists()


def test_the_province_list_shows_contacts_and_the_reminder(login, officer_hanoi, officer_hcm, silent_a):
    from provinces.rollups import rollups_compute

    rollups_compute(start=timezone.localdate(), end=timezone.localdate())
    client = login(officer_hanoi)
    page = client.get("/dashboards/province/01/").content.decode()
    assert "Chị Lan" in page and "tel:0241234567" in page and "mailto:lienhe@bv-a.example.vn" in page
    assert f'data-remind="{silent_a.code}"' in page
    _remind(client, silent_a)
    page = client.get("/dashboards/province/01/").content.decode()
    assert f'data-reminded="{silent_a.code}"' in page and "Đã nhắc hôm nay" in page
    assert f'data-remind="{silent_a.code}"' not in page


def test_the_detail_page_of_a_silent_facility_offers_the_reminder(login, officer_hanoi, officer_hcm, silent_a):
    url = reverse("facility-detail", args=[silent_a.code])
    client = login(officer_hanoi)
    assert f'data-remind="{silent_a.code}"' in client.get(url).content.decode()
    _remind(client, silent_a)
    assert f'data-reminded="{silent_a.code}"' in client.get(url).content.decode()
