"""Done when (issue 20), in Chromium: a province officer of Hà Nội sees each shipped cohort by
commune; a public-health officer opens one list with a purpose, exports it and sends reminders;
the citizens listed see that read in their access log (citizen API); an officer of another
province sees none of it (404)."""

import csv
import io

import pytest
from django.urls import reverse

from accesslog.models import AccessLogEntry
from cohorts.models import CohortDefinition
from cohorts.services import memberships_compute
from healthbook.models import Citizen, Notification
from publichealth.models import LineListOpening
from tests.cohorts.conftest import appointment, days_ago, facility, icd10, person, visit  # noqa: F401
from tests.conftest import TRANSACTIONAL
from tests.facilities.test_browser import browser, sign_in  # noqa: F401  (fixture and helper)
from tests.healthbook.reminders.conftest import vaccine_list  # noqa: F401 (fixture)
from tests.publichealth.conftest import platform  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, TRANSACTIONAL]

SHIPPED = (
    "hypertension-follow-up-missed",
    "diabetes-follow-up-missed",
    "hypertension-diabetes-follow-up-missed",
    "children-vaccine-overdue",
    "pregnant-no-checkup-8-weeks",
    "chronic-not-seen-12-months",
)


def hypertension_overdue(n: int, province: str, fac, commune: str = "") -> list[Citizen]:
    people = []
    for _ in range(n):
        c = person(province, commune=commune)
        visit(c, fac, days_ago(60), "I10")
        appointment(c, fac, days_ago(20))
        people.append(c)
    return people


def test_done_when_in_chromium(live_server, browser, officer_hanoi, platform, icd10, vaccine_list):  # noqa: F811
    from tests import factories as f

    hn, hcm = facility("01101", "01"), facility("79101", "79")
    hanoi_people = hypertension_overdue(6, "01", hn)
    Citizen.objects.filter(pk=hanoi_people[0].pk).update(full_name="Nguyễn Thị Ngoại Trú", phone="0912345678")
    hypertension_overdue(2, "79", hcm)
    memberships_compute(provinces=["01", "79"])
    ph_hanoi = f.UserFactory(
        username="ytcc.hanoi.b", role="public_health_officer", province=f.province("01"), full_name="Đỗ Thu Hằng"
    )
    ph_hcm = f.UserFactory(username="ytcc.hcm.b", role="public_health_officer", province=f.province("79"))

    # 1. The province officer of Hà Nội sees each shipped cohort, by commune.
    context = browser.new_context(locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server.url, officer_hanoi)
    page.goto(f"{live_server.url}{reverse('cohorts-province', args=['01'])}")
    listed = set(page.locator("#cohorts-table tr[data-cohort]").evaluate_all("rows => rows.map(r => r.dataset.cohort)"))
    assert set(SHIPPED) <= listed
    for key in SHIPPED:
        assert page.goto(f"{live_server.url}{reverse('cohorts-detail', args=['01', key])}").status == 200
        assert page.locator("#communes-table").is_visible()
    context.close()

    # 2. The public-health officer opens the hypertension list with a purpose.
    context = browser.new_context(locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server.url, ph_hanoi)
    page.get_by_role("link", name="Danh sách y tế công cộng").first.click()
    page.locator("#cohorts tr", has_text="Người tăng huyết áp quá hạn tái khám").first.get_by_role(
        "link", name="Mở danh sách"
    ).click()
    page.select_option("#id_purpose", "follow_up")
    page.fill("#id_purpose_text", "Gọi điện nhắc người bệnh quá hẹn tái khám tháng này")
    with page.expect_navigation():
        page.locator("#purpose-form button[type=submit]").click()
    table = page.locator("#line-list").inner_text()
    assert "Nguyễn Thị Ngoại Trú" in table and "0912345678" in table
    opening = LineListOpening.objects.get(user=ph_hanoi)
    assert len(opening.citizen_ids) == 6
    assert AccessLogEntry.objects.filter(event="cohort_list", actor_user_id=ph_hanoi.pk).count() == 6

    # … exports it (CSV: one more entry per person) …
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))  # noqa: SIM115
    assert len(rows) == 7 and any("Nguyễn Thị Ngoại Trú" in r for r in rows)
    assert AccessLogEntry.objects.filter(event="cohort_export", actor_user_id=ph_hanoi.pk).count() == 6

    # … and sends reminders, then sees who was reached.
    page.locator("#send-reminders").click()
    with page.expect_navigation():
        page.locator("#remind-form button[type=submit]").click()
    assert page.locator("#reach-queued").inner_text() == "6"
    assert Notification.objects.filter(kind="cohort_reminder", citizen_id__in=opening.citizen_ids).count() == 6
    list_url = page.url
    context.close()

    # 3. A citizen listed sees that read in their access log, through the citizen API.
    from django.test import Client

    answer = Client().get(reverse("citizenapi:access-log"), **platform.header(hanoi_people[0].personal_id))
    texts = [p["text"] for p in answer.json()["people"]]
    assert any(t.startswith("Danh sách y tế công cộng: Người tăng huyết áp quá hạn tái khám") for t in texts)

    # 4. An officer of another province sees none of it.
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    sign_in(page, live_server.url, ph_hcm)
    assert page.goto(list_url).status == 404
    index = page.goto(f"{live_server.url}{reverse('ph-cohort-index')}")
    assert index.status == 200 and "Ngoại Trú" not in page.content()
    context.close()
    assert CohortDefinition.objects.filter(key__in=SHIPPED).count() == len(SHIPPED)
