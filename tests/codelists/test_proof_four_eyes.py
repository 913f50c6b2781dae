"""Proof row T13 (issue 15, "Trust"), code lists: four eyes means a publisher who edited nothing in
the draft, not only someone other than its last editor."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError

from codelists import services
from codelists.models import VersionStatus


def test_t13_an_admin_who_edited_the_draft_cannot_publish_it(
    proof, labs, ministry_admin, ministry_editor, second_admin
):
    row = proof.row(
        "T13",
        "a ministry administrator starts a code-list draft and changes a concept, an editor makes the last "
        "change and submits, then the administrator publishes; then the same with an administrator who only "
        "sent the draft back, and one who edited nothing",
    )
    draft = services.draft_start(
        system=labs.system, acting_user=ministry_admin, label="2026", effective_from=date(2026, 1, 1)
    )
    glu = draft.concepts.get(code="GLU")
    services.concept_edit(
        concept=glu,
        acting_user=ministry_admin,
        expected_revision=glu.revision,
        fields=services.ConceptFields(display_vi="Glucose máu (đã sửa)", properties=glu.properties),
    )
    services.concept_add(
        version=draft, acting_user=ministry_editor, code="HBA1C", fields=services.ConceptFields(display_vi="HbA1c")
    )
    services.version_submit(version=draft, acting_user=ministry_editor)
    tries = 0
    published_by_an_editor = 0
    try:
        tries += 1
        services.version_publish(version=draft, acting_user=ministry_admin)
        published_by_an_editor += 1
    except (ValidationError, PermissionDenied):
        pass
    draft.refresh_from_db()
    if draft.status == VersionStatus.IN_REVIEW:
        # The other administrator sends it back once (a review, not an edit) and may still publish.
        services.version_send_back(version=draft, acting_user=second_admin, comment="Thêm đơn vị đo cho HbA1c")
        services.version_submit(version=draft, acting_user=ministry_editor)
        tries += 1
        services.version_publish(version=draft, acting_user=second_admin)
        draft.refresh_from_db()
    row.set(
        times=tries,
        figure=f"published by an administrator who had edited the draft {published_by_an_editor}/1; by the "
        f"administrator who only reviewed it {int(draft.status == VersionStatus.PUBLISHED)}/1",
    )
    assert published_by_an_editor == 0 and draft.status == VersionStatus.PUBLISHED
