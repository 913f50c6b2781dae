"""Issue 18, point 5: code-list safety. An empty optional cell keeps what is stored; the review
page shows what a draft changes; publishing is confirmed with a summary; a version in force until
a later date says so (pages and FHIR); compare orders by date; properties are typed fields."""

from datetime import date

import pytest

from codelists import imports, services
from codelists.models import CodeSystemVersion, ImportJob, VersionState, VersionStatus
from tests.codelists import factories as cf

HEADER = "code,display_vi,display_en,parent_code,active,properties\n"
DRG = {"kind": "code", "drg_mdc": [6], "sex": "F", "not_main_diagnosis": True}


@pytest.fixture
def icd_draft(icd, ministry_editor):
    cf.version(
        icd,
        "2020",
        [("A00", "Bệnh tả", True, DRG), ("J18.9", "Viêm phổi", True, {"kind": "code"}), ("U07.1", "Mã cũ", False)],
        effective_from=date(2020, 1, 1),
    )
    return services.draft_start(system=icd, acting_user=ministry_editor, label="nháp", effective_from=date(2026, 1, 1))


def _import(draft, user, body: str) -> ImportJob:
    job = imports.import_preview(version=draft, acting_user=user, filename="f.csv", content=(HEADER + body).encode())
    assert job.status == ImportJob.Status.PREVIEWED, job.errors
    return job


# --- import: an empty optional cell means "unchanged" ------------------------------------------


def test_an_empty_properties_cell_keeps_drg_groups_age_and_sex_limits(icd_draft, ministry_editor, login):
    job = _import(icd_draft, ministry_editor, "A00,Bệnh tả (sửa),,,,\nU07.1,Mã cũ,,,,\n")
    assert job.summary["changed"] == 1 and job.summary["kept_empty"] == {"properties": 1}
    page = (
        login(ministry_editor).get(f"/codelists/icd10/versions/{icd_draft.pk}/import/{job.public_id}/").content.decode()
    )
    assert "giữ nguyên giá trị đang lưu" in page and "Thuộc tính: 1 mã giữ nguyên" in page
    imports.import_apply(job=job, acting_user=ministry_editor)
    a00, u07 = icd_draft.concepts.get(code="A00"), icd_draft.concepts.get(code="U07.1")
    assert a00.display_vi == "Bệnh tả (sửa)" and a00.properties == DRG
    assert u07.active is False  # an empty "active" cell does not bring a retired code back


def test_braces_still_clear_the_properties_on_purpose(icd_draft, ministry_editor):
    job = _import(icd_draft, ministry_editor, "A00,Bệnh tả,,,1,{}\n")
    assert job.summary["changes"]["A00"]["properties"] == [DRG, {}]
    imports.import_apply(job=job, acting_user=ministry_editor)
    assert icd_draft.concepts.get(code="A00").properties == {}


def test_empty_cells_of_a_new_code_take_the_defaults(icd_draft, ministry_editor):
    imports.import_apply(job=_import(icd_draft, ministry_editor, "B01,Thủy đậu,,,,\n"), acting_user=ministry_editor)
    b01 = icd_draft.concepts.get(code="B01")
    assert b01.active is True and b01.properties == {} and b01.parent_code == ""


# --- the review page: the difference from the version in force, paged ---------------------------


def _change_many(draft, user, n):
    body = "".join(f"N{i:03d},Mã mới {i},,,,\n" for i in range(n)) + "A00,Bệnh tả,,,0,\n"
    imports.import_apply(job=_import(draft, user, body), acting_user=user)


def test_review_page_shows_only_the_changes_with_vietnamese_labels(
    icd_draft, ministry_editor, login, django_assert_max_num_queries
):
    _change_many(icd_draft, ministry_editor, 60)
    client = login(ministry_editor)
    url = f"/codelists/icd10/versions/{icd_draft.pk}/"
    with django_assert_max_num_queries(30):
        response = client.get(url)
    assert response.context["review_mode"] and response.context["review_base"].label == "2020"
    assert response.context["summary"] == {"added": 60, "changed": 0, "retired": 1, "removed": 0}
    assert len(response.context["diffs"]) == 50 and response.context["page"].paginator.num_pages == 2
    page1 = response.content.decode()
    assert "Trạng thái mã" in page1 and "Đang dùng" in page1 and "Ngừng sử dụng" in page1
    for raw in ("display_vi", "active", "True", "False"):
        assert f">{raw}<" not in page1 and f"{raw}:" not in page1
    assert "J18.9" not in page1  # unchanged codes are not listed
    assert len(client.get(url, {"page": 2}).context["diffs"]) == 11
    everything = client.get(url, {"show": "all"})
    assert everything.context["page"].paginator.count == 63


def test_property_changes_are_listed_one_by_one_with_declared_labels(icd_draft, ministry_editor, login):
    a00 = icd_draft.concepts.get(code="A00")
    services.concept_edit(
        concept=a00,
        acting_user=ministry_editor,
        expected_revision=a00.revision,
        fields=services.ConceptFields(display_vi="Bệnh tả", properties={**DRG, "drg_mdc": [6, 7]}),
    )
    response = login(ministry_editor).get(f"/codelists/icd10/versions/{icd_draft.pk}/", {"change": "changed"})
    (_diff, kind, rows) = response.context["diffs"][0]
    assert kind == "changed" and rows == [("Thuộc tính “Nhóm DRG (MDC)”", "[6]", "[6, 7]")]


# --- publishing asks for confirmation with a summary ---------------------------------------------


@pytest.fixture
def in_review(icd_draft, ministry_editor):
    _change_many(icd_draft, ministry_editor, 2)
    return services.version_submit(version=icd_draft, acting_user=ministry_editor)


def test_publish_shows_a_summary_and_needs_the_box_ticked(in_review, second_admin, login):
    client = login(second_admin)
    url = f"/codelists/icd10/versions/{in_review.pk}/publish/"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["summary"] == {"added": 2, "changed": 0, "retired": 1, "removed": 0}
    text = page.content.decode()
    assert "01/01/2026" in text and "Phiên bản được thay thế" in text and 'name="confirm"' in text
    refused = client.post(url)
    assert refused.status_code == 400 and "Đánh dấu ô này" in refused.content.decode()
    assert CodeSystemVersion.objects.get(pk=in_review.pk).status == VersionStatus.IN_REVIEW
    assert client.post(url, {"confirm": "on"}).status_code == 302
    assert CodeSystemVersion.objects.get(pk=in_review.pk).status == VersionStatus.PUBLISHED


def test_the_editor_cannot_reach_the_publish_page(in_review, ministry_editor, login):
    client = login(ministry_editor)
    url = f"/codelists/icd10/versions/{in_review.pk}/publish/"
    assert client.get(url).status_code == 302
    assert client.post(url, {"confirm": "on"}).status_code == 302
    assert CodeSystemVersion.objects.get(pk=in_review.pk).status == VersionStatus.IN_REVIEW


# --- a version in force until a later date is not "retired" ------------------------------------


def test_states_of_versions_around_a_future_publication(icd_v1, icd_v2, icd_v3, ministry_editor, login):
    icd_v2.refresh_from_db()
    on = date(2026, 6, 1)
    assert icd_v1.state_on(on) == VersionState.ENDED
    assert icd_v2.status == VersionStatus.RETIRED and icd_v2.state_on(on) == VersionState.IN_FORCE_UNTIL
    assert icd_v3.state_on(on) == VersionState.UPCOMING
    assert icd_v3.state_on(date(2030, 1, 1)) == VersionState.IN_FORCE
    page = login(ministry_editor).get("/codelists/icd10/").content.decode()
    assert "Đang hiệu lực đến 31/12/2029" in page and "Sắp hiệu lực" in page and "Đã hết hiệu lực" in page
    assert "Đã ngừng" not in page


def test_fhir_says_active_until_the_period_ends(client, icd_v1, icd_v2, icd_v3):
    def read(label):
        return client.get("/fhir/CodeSystem/icd10", {"version": label}).json()

    v2 = read("v2")
    assert v2["status"] == "active"
    assert v2["extension"][0]["valuePeriod"] == {"start": "2025-01-01", "end": "2029-12-31"}
    assert read("v3")["status"] == "active" and read("v1")["status"] == "retired"
    expansion = client.get("/fhir/ValueSet/$expand", {"url": icd_v2.system.canonical_url + "?vs", "version": "v2"})
    assert expansion.json()["status"] == "active"


# --- compare: before and after by date, whatever the pick order ---------------------------------


def test_compare_puts_the_earlier_version_before(icd_v1, icd_v2, ministry_editor, login):
    client = login(ministry_editor)
    response = client.get("/codelists/icd10/compare/", {"a": icd_v2.pk, "b": icd_v1.pk})
    assert response.context["a"] == icd_v1 and response.context["b"] == icd_v2
    text = response.content.decode()
    assert "Phiên bản trước" in text and "Phiên bản sau" in text and "Từ ngày" not in text
    assert response.context["counts"]["added"] == 1  # X01 is new in v2, whichever way it was asked


# --- properties through the fields the list declares -------------------------------------------


def test_lab_properties_are_typed_fields_not_json(labs, ministry_editor, login):
    draft = services.draft_start(system=labs.system, acting_user=ministry_editor, label="n", effective_from=None)
    glu = draft.concepts.get(code="GLU")
    glu_props = {**glu.properties, "ref_note": "ghi chú"}
    type(glu).objects.filter(pk=glu.pk).update(properties=glu_props)
    client = login(ministry_editor)
    url = f"/codelists/lab-indicator/versions/{draft.pk}/concepts/GLU/"
    page = client.get(url)
    form = page.context["form"]
    assert "properties" not in form.fields and form["prop_unit"].label == "Đơn vị"
    assert form["prop_ref_low"].initial == 3.9
    text = page.content.decode()
    assert "JSON" not in text and 'name="prop_ref_high"' in text
    bad = client.post(url, {"display_vi": "Glucose", "active": "on", "revision": "1", "prop_ref_low": "ba"})
    assert bad.status_code == 200 and bad.context["form"].errors["prop_ref_low"]
    body = {"display_vi": "Glucose", "active": "on", "revision": "1", "prop_unit": "mmol/L", "prop_ref_low": "4"}
    body.update(prop_ref_high="6.1", prop_population="")
    assert client.post(url, body).status_code == 302
    glu.refresh_from_db()
    assert glu.properties == {"unit": "mmol/L", "ref_low": 4, "ref_high": 6.1, "ref_note": "ghi chú"}


def test_icd10_properties_are_choices_and_an_unlisted_value_survives_a_save(icd_draft, ministry_editor, login):
    a00 = icd_draft.concepts.get(code="A00")
    type(a00).objects.filter(pk=a00.pk).update(properties={**DRG, "kind": "subcategory"})
    client = login(ministry_editor)
    url = f"/codelists/icd10/versions/{icd_draft.pk}/concepts/A00/"
    form = client.get(url).context["form"]
    assert dict(form.fields["prop_sex"].choices)["F"] == "Nữ" and form["prop_sex"].value() == "F"
    assert form["prop_not_main_diagnosis"].value() is True and form["prop_drg_mdc"].value() == "6"
    body = {"display_vi": "Bệnh tả", "active": "on", "revision": "1", "prop_kind": "subcategory", "prop_sex": "F"}
    body.update(prop_not_main_diagnosis="on", prop_drg_mdc="6, 7", prop_marker="")
    for name in ("age_restrictions", "pairs_as_dagger", "pairs_as_asterisk"):
        body[f"prop_{name}"] = ""
    assert client.post(url, body).status_code == 302
    a00.refresh_from_db()
    assert a00.properties == {**DRG, "kind": "subcategory", "drg_mdc": [6, 7]}


def test_history_reads_in_vietnamese_labels(icd_draft, ministry_editor, login):
    services.draft_update(
        version=icd_draft, acting_user=ministry_editor, label="nháp 2", effective_from=date(2027, 1, 1), change_note=""
    )
    services.concept_add(
        version=icd_draft,
        acting_user=ministry_editor,
        code="B01",
        fields=services.ConceptFields(display_vi="Thủy đậu", properties={"sex": "F"}),
    )
    page = login(ministry_editor).get("/codelists/icd10/history/").content.decode()
    assert "01/01/2027" in page and "Thủy đậu" in page
    assert "Thuộc tính “Chỉ dùng cho giới”" in page and "Đang dùng" in page
    for raw in ("display_vi", "effective_from", "2027-01-01", "active", "True"):
        assert f"<strong>{raw}</strong>" not in page and f">{raw}:" not in page
