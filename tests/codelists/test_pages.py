"""Editorial pages: who may see them, search, compare and history."""

from datetime import date

import pytest

from codelists import services


@pytest.mark.parametrize("actor", ["doctor_a", "officer_hanoi", "facility_admin_a"])
def test_non_ministry_staff_are_refused(request, client, login, labs, actor):
    c = login(request.getfixturevalue(actor))
    assert c.get("/codelists/").status_code == 403


def test_anonymous_is_sent_to_login(client, labs):
    assert client.get("/codelists/").status_code == 302


def test_ministry_editor_sees_nav_entry_and_list(client, login, labs, ministry_editor):
    r = login(ministry_editor).get("/codelists/")
    assert r.status_code == 200
    assert b'href="/codelists/"' in r.content and b"Glucose" not in r.content


def test_search_by_text_without_diacritics(client, login, icd_v2, ministry_editor, django_assert_max_num_queries):
    c = login(ministry_editor)
    with django_assert_max_num_queries(16):
        r = c.get(f"/codelists/icd10/versions/{icd_v2.pk}/", {"q": "viem phoi khong dac hieu"})
    assert [c.code for c in r.context["page"]] == ["J18.9"]
    r = c.get(f"/codelists/icd10/versions/{icd_v2.pk}/", {"q": "a00"})
    assert "Bệnh tả" in r.content.decode()


def test_compare_page_and_csv(client, login, icd_v2, icd_v1, ministry_editor):
    c = login(ministry_editor)
    r = c.get("/codelists/icd10/compare/", {"a": icd_v1.pk, "b": icd_v2.pk})
    assert r.context["counts"] == {"added": 1, "removed": 1, "changed": 2}
    r = c.get("/codelists/icd10/compare/", {"a": icd_v1.pk, "b": icd_v2.pk, "format": "csv"})
    lines = b"".join(r.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "code,change,field,before,after"
    assert "U07.1,changed,active,yes,no" in lines or "U07.1,changed,active,có,không" in lines
    assert any(line.startswith("Z99.9,removed") for line in lines)


def test_history_page_lists_changes(client, login, labs, ministry_editor):
    draft = services.draft_start(
        system=labs.system, acting_user=ministry_editor, label="nháp", effective_from=date(2026, 1, 1)
    )
    services.concept_add(
        version=draft, acting_user=ministry_editor, code="HBA1C", fields=services.ConceptFields(display_vi="HbA1c")
    )
    r = login(ministry_editor).get("/codelists/lab-indicator/history/", {"code": "HBA1C"})
    assert r.status_code == 200 and "HBA1C" in r.content.decode()
    assert len(r.context["page"].object_list) == 1


def test_retire_from_the_list(client, login, labs, ministry_editor):
    draft = services.draft_start(system=labs.system, acting_user=ministry_editor, label="nháp")
    c = login(ministry_editor)
    r = c.post(f"/codelists/lab-indicator/versions/{draft.pk}/concepts/URE/retire/", {"revision": "1"})
    assert r.status_code == 302
    assert draft.concepts.get(code="URE").active is False


def test_published_version_cannot_be_edited_through_pages(client, login, labs, ministry_editor):
    c = login(ministry_editor)
    r = c.post(f"/codelists/lab-indicator/versions/{labs.pk}/concepts/new/", {"code": "X", "display_vi": "X"})
    assert r.status_code == 302
    assert not labs.concepts.filter(code="X").exists()


def test_pages_are_in_vietnamese(client, login, labs, ministry_editor):
    body = login(ministry_editor).get(f"/codelists/lab-indicator/versions/{labs.pk}/").content.decode()
    assert "Xuất CSV" in body and "Mã hoặc tên" in body
