"""Line lists of cohorts for the province public-health officer (issue 20, points 2 and 3): a
purpose first, masked IDs, one access-log entry per person listed (in the hash chain), closed
books never listed, exports formula-safe, reminders once per cohort and month, other provinces
and other roles refused."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accesslog.chain import chain_verify
from accesslog.models import AccessLogEntry
from healthbook.models import Notification
from publichealth.models import LineListOpening

PURPOSE = {"purpose": "follow_up", "purpose_text": "Gọi người bệnh tăng huyết áp quá hẹn tái khám", "commune": ""}


def open_list(client, data=PURPOSE):
    from cohorts.selectors import current_version

    version = current_version("hypertension-follow-up-missed")
    return client.post(reverse("ph-line-list-open", args=[version.pk]), data)


def entries(event="cohort_list"):
    return AccessLogEntry.objects.filter(event=event)


def test_the_list_opens_only_after_a_purpose(client, login, ph_hanoi, members, cohort):
    login(ph_hanoi)
    page = client.get(reverse("ph-line-list-open", args=[cohort.pk]))
    assert page.status_code == 200 and "Mục đích" in page.content.decode()
    response = open_list(client, {"purpose": "follow_up", "purpose_text": "", "commune": ""})
    assert response.status_code == 200
    response = open_list(client, {"purpose": "", "purpose_text": "Gọi người bệnh quá hẹn tái khám", "commune": ""})
    assert response.status_code == 200
    response = open_list(client, {**PURPOSE, "purpose_text": "để xem"})  # too short to say anything
    assert "Hãy nói" in response.content.decode()
    assert not LineListOpening.objects.exists() and not entries().exists()


def test_opening_logs_every_person_listed_and_never_a_closed_book(client, login, ph_hanoi, members):
    login(ph_hanoi)
    response = open_list(client)
    opening = LineListOpening.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("ph-line-list", args=[opening.public_id])
    listed = {c.pk for c in members["listed"]}
    assert set(opening.citizen_ids) == listed
    logged = list(entries())
    assert {e.citizen_id for e in logged} == listed and len(logged) == 3
    entry = logged[0]
    assert entry.purpose == "PUBHLTH" and entry.actor_username == ph_hanoi.username
    assert entry.details["purpose_text"] == PURPOSE["purpose_text"] and entry.details["purpose"] == "follow_up"
    assert entry.book_public_id is not None
    assert chain_verify().ok
    page = client.get(response["Location"]).content.decode()
    assert "Nguyễn Văn Huyết" in page and "0912000111" in page
    assert "Phạm Văn Đóng" not in page and "Trần Văn Xa" not in page  # closed book; another province
    person = members["listed"][0]
    assert person.personal_id not in page and "•••" + person.personal_id[-3:] in page
    assert not entries().exclude(citizen_id__in=listed).exists()


def test_opening_costs_the_same_queries_for_more_people(
    client, login, ph_hanoi, members, cohort, django_assert_max_num_queries
):
    from tests import factories as f
    from tests.healthbook.book import factories as df

    login(ph_hanoi)
    open_list(client)
    from tests.publichealth.conftest import members_add

    more = [df.citizen(name=f"Người Thứ {n}", province=f.province("01")) for n in range(20)]
    members_add(cohort, more, province_code="01")
    with django_assert_max_num_queries(20):
        open_list(client)
    assert entries().count() == 3 + 23


def test_export_is_logged_again_and_formula_safe(client, login, ph_hanoi, members):
    login(ph_hanoi)
    opening_url = open_list(client)["Location"]
    opening = LineListOpening.objects.get()
    response = client.post(reverse("ph-line-list-export", args=[opening.public_id]), {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 4
    names = {r[1] for r in rows[1:]}
    assert '\'=HYPERLINK("http://x","y")' in names
    assert entries("cohort_export").count() == 3
    xlsx = client.post(reverse("ph-line-list-export", args=[opening.public_id]), {"format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert entries("cohort_export").count() == 6
    assert client.get(opening_url).status_code == 200
    assert chain_verify().ok


def test_reminders_go_once_per_cohort_and_month_and_show_who_was_reached(
    client, login, ph_hanoi, members, django_capture_on_commit_callbacks
):
    login(ph_hanoi)
    opening_url = open_list(client)["Location"]
    opening = LineListOpening.objects.get()
    remind = reverse("ph-reminders-send", args=[opening.public_id])
    assert client.get(remind).status_code == 200
    with django_capture_on_commit_callbacks():
        client.post(remind)
    sent = Notification.objects.filter(kind="cohort_reminder")
    assert {n.citizen_id for n in sent} == set(opening.citizen_ids)
    assert {n.dedupe_key for n in sent} == {f"cohort:hypertension-follow-up-missed:{timezone.localdate():%Y-%m}"}
    client.post(remind)  # the same month again: nobody twice
    assert sent.count() == 3
    Notification.objects.filter(citizen=members["listed"][0]).update(status="sent")
    Notification.objects.filter(citizen=members["listed"][1]).update(status="dead")
    page = client.get(opening_url).content.decode()
    assert "Đã gửi" in page and "Không gửi được" in page
    from publichealth.selectors import reminder_counts

    counts = reminder_counts(opening)
    assert (counts["sent"], counts["dead"], counts["waiting"], counts["not_sent"]) == (1, 1, 1, 0)


def test_the_citizen_reads_the_list_in_their_own_log(client, login, ph_hanoi, members):
    from accesslog.selectors import citizen_access_log

    login(ph_hanoi)
    open_list(client)
    person = members["listed"][0]
    texts = [p["text"] for p in citizen_access_log(person.pk)["people"]]
    assert any(
        t.startswith("Danh sách y tế công cộng: Người tăng huyết áp quá hạn tái khám, mục đích: ")
        and PURPOSE["purpose_text"] in t
        for t in texts
    )


@pytest.mark.parametrize("who", ["ph_hcm", "officer_hanoi", "officer_hcm", "doctor_a", "ministry_admin"])
def test_nobody_else_sees_a_list(client, login, ph_hanoi, members, cohort, who, request):
    login(ph_hanoi)
    open_list(client)
    opening = LineListOpening.objects.get()
    client.logout()
    login(request.getfixturevalue(who))
    for name in ("ph-line-list", "ph-reminders-send"):
        assert client.get(reverse(name, args=[opening.public_id])).status_code == 404
    export = client.post(reverse("ph-line-list-export", args=[opening.public_id]), {"format": "csv"})
    assert export.status_code == 404
    if who == "ph_hcm":  # their own province's page: nothing of Hà Nội's lists
        index = client.get(reverse("ph-cohort-index")).content.decode()
        assert str(opening.public_id) not in index and "Hồ Chí Minh" in index
    else:
        assert client.get(reverse("ph-cohort-index")).status_code == 404
        assert client.post(reverse("ph-line-list-open", args=[cohort.pk]), PURPOSE).status_code == 404
    assert entries().count() == 3 and entries("cohort_export").count() == 0
    assert not Notification.objects.filter(kind="cohort_reminder").exists()


def test_a_commune_of_another_province_is_refused(client, login, ph_hanoi, members):
    from geo.models import Commune

    other = Commune.objects.filter(province__code="79").first()
    if other is None:
        pytest.skip("no communes loaded")
    login(ph_hanoi)
    response = open_list(client, {**PURPOSE, "commune": other.code})
    assert response.status_code == 200  # not a choice of the form
    assert not LineListOpening.objects.exists()


def test_the_citizen_sees_the_read_through_the_citizen_api(client, login, ph_hanoi, members, platform):
    """Done when: the citizens listed see that read in their access log (VNeID platform call)."""
    login(ph_hanoi)
    open_list(client)
    client.logout()
    person, closed = members["listed"][1], members["closed"]
    response = client.get(reverse("citizenapi:access-log"), **platform.header(person.personal_id))
    assert response.status_code == 200
    texts = [p["text"] for p in response.json()["people"]]
    assert any(
        "Danh sách y tế công cộng: Người tăng huyết áp quá hạn tái khám" in t and "Đỗ Thị Hằng" in t for t in texts
    )
    response = client.get(reverse("citizenapi:access-log"), **platform.header(closed.personal_id))
    assert not any("y tế công cộng" in p["text"] for p in response.json()["people"])  # a closed book: never listed


def test_a_ministry_admin_creates_a_public_health_officer_for_a_province(ministry_admin, officer_hanoi):
    from django.core.exceptions import PermissionDenied, ValidationError

    from accounts.services import staff_create
    from tests import factories as f

    user = staff_create(
        acting_user=ministry_admin,
        username="ytcc.moi",
        email="ytcc.moi@test.invalid",
        full_name="Cán Bộ Mới",
        role="public_health_officer",
        province=f.province("01"),
    )
    assert (user.province.code, user.facility, user.is_pending) == ("01", None, False)
    with pytest.raises(ValidationError):
        staff_create(
            acting_user=ministry_admin,
            username="ytcc.khong",
            email="ytcc.khong@test.invalid",
            full_name="Không Tỉnh",
            role="public_health_officer",
        )
    with pytest.raises(PermissionDenied):  # a provincial officer does not make them
        staff_create(
            acting_user=officer_hanoi,
            username="ytcc.so",
            email="ytcc.so@test.invalid",
            full_name="Cán Bộ Sở",
            role="public_health_officer",
            province=f.province("01"),
        )


def test_the_role_reads_nothing_of_the_book(client, login, ph_hanoi, members):
    """No doctor's book page, no dashboard, no cohort counts, no dead letters: only the lists."""
    login(ph_hanoi)
    book = members["listed"][0].book
    for url in (
        reverse("book-detail", args=[book.public_id]),
        reverse("dashboard-mine"),
        reverse("cohorts-mine"),
        reverse("notification-failed-list"),
        reverse("citizen-search"),
    ):
        assert client.get(url).status_code in (403, 404), url
    nav = client.get(reverse("home")).content.decode()
    assert reverse("ph-cohort-index") in nav and reverse("cohorts-mine") not in nav


def test_a_list_longer_than_a_chunk_stays_one_unbroken_chain(client, login, ph_hanoi, members, monkeypatch):
    """The bulk append commits BULK_CHUNK entries at a time: the chain stays whole across chunks."""
    import accesslog.chain

    monkeypatch.setattr(accesslog.chain, "BULK_CHUNK", 2)
    login(ph_hanoi)
    open_list(client)
    seqs = list(entries().order_by("seq").values_list("seq", flat=True))
    assert len(seqs) == 3 and seqs == list(range(seqs[0], seqs[0] + 3))
    assert chain_verify().ok


def test_the_staff_panel_words_the_list_in_vietnamese(client, login, ph_hanoi, members):
    """The book's "who viewed" panel reads `viewed` only: the cohort and the purpose are in it."""
    from accesslog.selectors import book_viewers, viewed_label

    login(ph_hanoi)
    open_list(client)
    entry = book_viewers(members["listed"][0].pk)[0]
    with translation.override("vi"):
        assert viewed_label(entry.viewed) == (
            "Danh sách y tế công cộng: Người tăng huyết áp quá hạn tái khám, "
            "mục đích: Theo dõi người bỏ lỡ tái khám hoặc điều trị"
        )
