"""Draft → review → publish, four eyes, and the end-to-end walk through the pages to $lookup."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from fhir.resources.R4B.parameters import Parameters

from codelists import services
from codelists.models import ChangeAction, ChangeLogEntry, CodeSystemVersion, VersionStatus
from codelists.validation import code_validate


def _draft(labs, user, label="2026"):
    return services.draft_start(system=labs.system, acting_user=user, label=label, effective_from=date(2026, 1, 1))


def test_draft_starts_as_a_copy_of_the_latest_published_version(labs, ministry_editor):
    draft = _draft(labs, ministry_editor)
    assert draft.status == VersionStatus.DRAFT and draft.based_on == labs
    assert sorted(draft.concepts.values_list("code", flat=True)) == ["CRE", "GLU", "URE"]
    assert draft.concepts.get(code="GLU").properties["ref_high"] == 6.4


def test_only_one_open_draft_per_list(labs, ministry_editor):
    _draft(labs, ministry_editor)
    with pytest.raises(ValidationError):
        _draft(labs, ministry_editor, label="other")


def test_doctor_cannot_start_a_draft(labs, doctor_a):
    with pytest.raises(PermissionDenied):
        _draft(labs, doctor_a)


def test_last_editor_cannot_publish_their_own_change(labs, ministry_admin):
    draft = _draft(labs, ministry_admin)
    services.version_submit(version=draft, acting_user=ministry_admin)
    with pytest.raises(ValidationError, match="quản trị Bộ Y tế khác"):
        services.version_publish(version=draft, acting_user=ministry_admin)


def test_editor_cannot_publish(labs, ministry_editor):
    draft = _draft(labs, ministry_editor)
    services.version_submit(version=draft, acting_user=ministry_editor)
    with pytest.raises(PermissionDenied):
        services.version_publish(version=draft, acting_user=ministry_editor)


def test_version_in_review_cannot_be_edited(labs, ministry_editor):
    draft = _draft(labs, ministry_editor)
    services.version_submit(version=draft, acting_user=ministry_editor)
    with pytest.raises(ValidationError, match="Chỉ sửa được bản nháp"):
        services.concept_add(
            version=draft, acting_user=ministry_editor, code="NEW", fields=services.ConceptFields(display_vi="Mới")
        )


def test_send_back_needs_a_comment_and_reopens_the_draft(labs, ministry_editor, ministry_admin):
    draft = _draft(labs, ministry_editor)
    services.version_submit(version=draft, acting_user=ministry_editor)
    with pytest.raises(ValidationError):
        services.version_send_back(version=draft, acting_user=ministry_admin, comment=" ")
    services.version_send_back(version=draft, acting_user=ministry_admin, comment="Thiếu đơn vị đo")
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT and draft.review_comment == "Thiếu đơn vị đo"


def test_publish_retires_the_previous_version_and_moves_validation(labs, ministry_editor, ministry_admin):
    draft = _draft(labs, ministry_editor)
    services.concept_add(
        version=draft,
        acting_user=ministry_editor,
        code="HBA1C",
        fields=services.ConceptFields(display_vi="HbA1c", properties={"unit": "%"}),
    )
    services.version_submit(version=draft, acting_user=ministry_editor)
    services.version_publish(version=draft, acting_user=ministry_admin)
    labs.refresh_from_db()
    assert labs.status == VersionStatus.RETIRED and labs.effective_to == date(2026, 1, 1)
    assert code_validate("lab-indicator", "HBA1C", date(2025, 12, 31)).reason == "not_in_force"
    assert code_validate("lab-indicator", "HBA1C", date(2026, 1, 1)).ok


def test_publication_date_must_follow_the_current_version(labs, ministry_editor, ministry_admin):
    draft = services.draft_start(
        system=labs.system, acting_user=ministry_editor, label="old", effective_from=date(2019, 1, 1)
    )
    services.version_submit(version=draft, acting_user=ministry_editor)
    with pytest.raises(ValidationError):
        services.version_publish(version=draft, acting_user=ministry_admin)
    assert CodeSystemVersion.objects.get(pk=draft.pk).status == VersionStatus.IN_REVIEW


def test_history_records_who_changed_what(labs, ministry_editor, ministry_admin):
    draft = _draft(labs, ministry_editor)
    glu = draft.concepts.get(code="GLU")
    services.concept_edit(
        concept=glu,
        acting_user=ministry_editor,
        expected_revision=1,
        fields=services.ConceptFields(display_vi="Glucose máu", properties=glu.properties),
    )
    entry = ChangeLogEntry.objects.get(action=ChangeAction.CONCEPT_EDIT)
    assert entry.actor == ministry_editor and entry.code == "GLU"
    assert entry.before == {"display_vi": "Glucose"} and entry.after == {"display_vi": "Glucose máu"}


def test_edit_review_publish_then_lookup_through_the_pages(client, login, labs, ministry_editor, second_admin):
    """The walk of the issue: editor edits in the browser, another admin publishes, $lookup reads it."""
    c = login(ministry_editor)
    r = c.post(f"/codelists/{labs.system.key}/", {"label": "QĐ thử 2026", "effective_from": "2026-01-01"})
    draft = CodeSystemVersion.objects.get(label="QĐ thử 2026")
    assert r.status_code == 302 and r["Location"] == draft.get_absolute_url()
    base = f"/codelists/lab-indicator/versions/{draft.pk}/"
    r = c.post(
        base + "concepts/new/",
        {
            "code": "HBA1C",
            "display_vi": "HbA1c",
            "display_en": "Haemoglobin A1c",
            "active": "on",
            "prop_unit": "%",
            "prop_ref_high": "6.4",
        },
    )
    assert r.status_code == 302
    assert c.post(base + "submit/").status_code == 302
    c.logout()
    c = login(second_admin)
    page = c.get(base).content.decode()
    assert f'href="{base}publish/"' in page and "Ban hành" in page
    confirm = c.get(base + "publish/")
    assert confirm.status_code == 200 and confirm.context["summary"]["added"] == 1
    assert "01/01/2026" in confirm.content.decode()
    assert c.post(base + "publish/").status_code == 400  # not confirmed: nothing published
    assert CodeSystemVersion.objects.get(pk=draft.pk).status == VersionStatus.IN_REVIEW
    assert c.post(base + "publish/", {"confirm": "on"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED and draft.published_by == second_admin
    c.logout()
    r = c.get("/fhir/CodeSystem/$lookup", {"system": labs.system.canonical_url, "code": "HBA1C", "date": "2026-03-01"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/fhir+json")
    params = Parameters.model_validate_json(r.content)
    values = {p.name: p for p in params.parameter}
    assert values["display"].valueString == "HbA1c"
    assert values["version"].valueString == "QĐ thử 2026"
    props = {pp.part[0].valueCode: pp.part[1] for pp in params.parameter if pp.name == "property"}
    assert props["unit"].valueString == "%"
