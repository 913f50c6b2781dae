"""Writes on code lists: drafts, concept edits, review and publication.

Every service owns its transaction, locks the version row first (then the concept row) so
that concurrent editors queue instead of interleaving, and writes a change-log entry.
Only drafts change; a published version is frozen (and the database refuses otherwise).
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import audit_record
from codelists.access import edited_version
from codelists.models import (
    ChangeAction,
    ChangeLogEntry,
    CodeSystem,
    CodeSystemVersion,
    Concept,
    VersionStatus,
    concept_search_text,
)
from core.roles import Role

EDITABLE_FIELDS = ("display_vi", "display_en", "parent_code", "active", "properties")


class ConceptConflict(Exception):
    """Another editor saved the concept since this editor opened it."""

    def __init__(self, *, concept: Concept, submitted: dict):
        super().__init__(concept.code)
        self.concept = concept
        self.current = {f: getattr(concept, f) for f in EDITABLE_FIELDS}
        self.submitted = submitted
        self.current_editor = concept.updated_by
        self.current_revision = concept.revision


@dataclass(frozen=True)
class ConceptFields:
    display_vi: str
    display_en: str = ""
    parent_code: str = ""
    active: bool = True
    properties: dict | None = None

    def as_dict(self) -> dict:
        return {
            "display_vi": self.display_vi,
            "display_en": self.display_en,
            "parent_code": self.parent_code,
            "active": self.active,
            "properties": self.properties or {},
        }


def change_log(
    *,
    version: CodeSystemVersion,
    actor: User | None,
    action: str,
    code: str = "",
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> ChangeLogEntry:
    return ChangeLogEntry.objects.create(
        system_id=version.system_id,
        version=version,
        version_label=version.label,
        action=action,
        code=code,
        actor=actor if actor and actor.pk else None,
        before=before or {},
        after=after or {},
        note=note,
    )


def _require_ministry(user: User) -> None:
    if not (user and user.is_active and user.role in (Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN)):
        raise PermissionDenied


def _lock_draft(version: CodeSystemVersion) -> CodeSystemVersion:
    """Lock the version row and check that it is still a draft."""
    locked = CodeSystemVersion.objects.select_for_update(of=("self",)).select_related("system").get(pk=version.pk)
    if locked.status != VersionStatus.DRAFT:
        raise ValidationError(
            _("Only a draft can be changed; this version is %(status)s.") % {"status": locked.get_status_display()},
            code="not_draft",
        )
    return locked


def _touch(version: CodeSystemVersion, user: User | None) -> None:
    CodeSystemVersion.objects.filter(pk=version.pk).update(
        last_edited_by=user, last_edited_at=timezone.now(), edit_count=F("edit_count") + 1
    )


def _check_fields(system: CodeSystem, version: CodeSystemVersion, code: str, fields: ConceptFields) -> None:
    errors = {}
    if not code or code != code.strip():
        errors["code"] = _("The code is required and may not start or end with spaces.")
    elif len(code) > system.max_code_length:
        errors["code"] = _("The code is longer than %(n)s characters.") % {"n": system.max_code_length}
    if not fields.display_vi.strip():
        errors["display_vi"] = _("The Vietnamese display is required.")
    if fields.properties is not None and not isinstance(fields.properties, dict):
        errors["properties"] = _("Properties must be a JSON object.")
    if fields.parent_code:
        if fields.parent_code == code:
            errors["parent_code"] = _("A concept cannot be its own parent.")
        elif not Concept.objects.filter(version=version, code=fields.parent_code).exists():
            errors["parent_code"] = _("The parent code %(code)s is not in this version.") % {"code": fields.parent_code}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def draft_start(
    *, system: CodeSystem, acting_user: User, label: str, effective_from: date | None = None, change_note: str = ""
) -> CodeSystemVersion:
    """Open a draft as a copy of the latest published version (concepts and mappings)."""
    _require_ministry(acting_user)
    system = CodeSystem.objects.select_for_update().get(pk=system.pk)
    if system.versions.filter(status__in=[VersionStatus.DRAFT, VersionStatus.IN_REVIEW]).exists():
        raise ValidationError(_("This list already has an open draft."), code="draft_exists")
    label = label.strip()
    if not label:
        raise ValidationError({"label": _("Give the new version a label.")})
    if system.versions.filter(label=label).exists():
        raise ValidationError({"label": _("A version with this label already exists.")})
    base = (
        system.versions.filter(status__in=[VersionStatus.PUBLISHED, VersionStatus.RETIRED])
        .order_by("-effective_from", "-id")
        .first()
    )
    now = timezone.now()
    draft = CodeSystemVersion.objects.create(
        system=system,
        label=label,
        status=VersionStatus.DRAFT,
        effective_from=effective_from,
        change_note=change_note,
        based_on=base,
        created_by=acting_user,
        last_edited_by=acting_user,
        last_edited_at=now,
    )
    if base is not None:
        with connection.cursor() as cur:
            cur.execute(
                """
                INSERT INTO codelists_concept
                    (version_id, code, display_vi, display_en, parent_code, active, properties, search, revision)
                SELECT %s, code, display_vi, display_en, parent_code, active, properties, search, 1
                FROM codelists_concept WHERE version_id = %s
                """,
                [draft.pk, base.pk],
            )
            cur.execute(
                """
                INSERT INTO codelists_conceptmapping
                    (concept_id, target_system, target_code, target_display, relationship)
                SELECT n.id, m.target_system, m.target_code, m.target_display, m.relationship
                FROM codelists_conceptmapping m
                JOIN codelists_concept o ON o.id = m.concept_id AND o.version_id = %s
                JOIN codelists_concept n ON n.version_id = %s AND n.code = o.code
                """,
                [base.pk, draft.pk],
            )
    change_log(
        version=draft,
        actor=acting_user,
        action=ChangeAction.DRAFT_START,
        note=_("Based on %(label)s") % {"label": base.label} if base else "",
    )
    audit_record(actor=acting_user, action="codelist_draft_start", target=draft, details={"system": system.key})
    return draft


@transaction.atomic
def draft_update(
    *, version: CodeSystemVersion, acting_user: User, label: str, effective_from: date | None, change_note: str
) -> CodeSystemVersion:
    """Change the label, effective date or change note of a draft."""
    _require_ministry(acting_user)
    draft = _lock_draft(version)
    label = label.strip()
    if not label:
        raise ValidationError({"label": _("Give the new version a label.")})
    if CodeSystemVersion.objects.filter(system_id=draft.system_id, label=label).exclude(pk=draft.pk).exists():
        raise ValidationError({"label": _("A version with this label already exists.")})
    before = {"label": draft.label, "effective_from": str(draft.effective_from or ""), "change_note": draft.change_note}
    draft.label, draft.effective_from, draft.change_note = label, effective_from, change_note
    draft.save(update_fields=["label", "effective_from", "change_note"])
    _touch(draft, acting_user)
    after = {"label": label, "effective_from": str(effective_from or ""), "change_note": change_note}
    change_log(version=draft, actor=acting_user, action=ChangeAction.DRAFT_UPDATE, before=before, after=after)
    return draft


@transaction.atomic
def concept_add(*, version: CodeSystemVersion, acting_user: User, code: str, fields: ConceptFields) -> Concept:
    """Add a new concept to a draft."""
    _require_ministry(acting_user)
    draft = _lock_draft(version)
    _check_fields(draft.system, draft, code, fields)
    if Concept.objects.filter(version=draft, code=code).exists():
        raise ValidationError({"code": _("The code %(code)s is already in this version.") % {"code": code}})
    data = fields.as_dict()
    concept = Concept.objects.create(
        version=draft,
        code=code,
        search=concept_search_text(code, data["display_vi"], data["display_en"]),
        updated_by=acting_user,
        updated_at=timezone.now(),
        **data,
    )
    _touch(draft, acting_user)
    change_log(version=draft, actor=acting_user, action=ChangeAction.CONCEPT_ADD, code=code, after=data)
    return concept


@transaction.atomic
def concept_edit(
    *,
    concept: Concept,
    acting_user: User,
    expected_revision: int,
    fields: ConceptFields,
    action: str = ChangeAction.CONCEPT_EDIT,
) -> Concept:
    """Save an editor's change, unless someone else saved the concept since they opened it.

    `expected_revision` is the revision the editor saw. If it moved on, ConceptConflict
    carries both values so the page can show them side by side: never a silent overwrite.
    """
    _require_ministry(acting_user)
    draft = _lock_draft(concept.version)
    current = Concept.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=concept.pk)
    submitted = fields.as_dict()
    if current.revision != expected_revision:
        raise ConceptConflict(concept=current, submitted=submitted)
    _check_fields(draft.system, draft, current.code, fields)
    before = {f: getattr(current, f) for f in EDITABLE_FIELDS}
    changed = {f: v for f, v in submitted.items() if before[f] != v}
    if not changed:
        return current
    for name, value in changed.items():
        setattr(current, name, value)
    current.search = concept_search_text(current.code, current.display_vi, current.display_en)
    current.revision = F("revision") + 1
    current.updated_by, current.updated_at = acting_user, timezone.now()
    current.save(update_fields=[*changed, "search", "revision", "updated_by", "updated_at"])
    current.refresh_from_db(fields=["revision"])
    _touch(draft, acting_user)
    change_log(
        version=draft,
        actor=acting_user,
        action=action,
        code=current.code,
        before={f: before[f] for f in changed},
        after=changed,
    )
    return current


def concept_retire(*, concept: Concept, acting_user: User, expected_revision: int) -> Concept:
    """Mark a concept inactive in the draft (it stays in the list, for old records)."""
    fields = ConceptFields(**{**{f: getattr(concept, f) for f in EDITABLE_FIELDS}, "active": False})
    return concept_edit(
        concept=concept,
        acting_user=acting_user,
        expected_revision=expected_revision,
        fields=fields,
        action=ChangeAction.CONCEPT_RETIRE,
    )


@transaction.atomic
def version_submit(*, version: CodeSystemVersion, acting_user: User) -> CodeSystemVersion:
    """Hand a draft to review: it can no longer be edited until sent back."""
    _require_ministry(acting_user)
    draft = _lock_draft(version)
    if draft.effective_from is None:
        raise ValidationError({"effective_from": _("Set the date from which the version is in force.")})
    if not draft.concepts.exists():
        raise ValidationError(_("The draft has no concepts."), code="empty")
    draft.status = VersionStatus.IN_REVIEW
    draft.submitted_by, draft.submitted_at = acting_user, timezone.now()
    draft.save(update_fields=["status", "submitted_by", "submitted_at"])
    change_log(version=draft, actor=acting_user, action=ChangeAction.SUBMIT)
    audit_record(actor=acting_user, action="codelist_version_submit", target=draft)
    return draft


def _lock_for_review(version: CodeSystemVersion, acting_user: User) -> CodeSystemVersion:
    if not (acting_user and acting_user.is_active and acting_user.role == Role.MINISTRY_ADMIN):
        raise PermissionDenied
    locked = CodeSystemVersion.objects.select_for_update(of=("self",)).select_related("system").get(pk=version.pk)
    if locked.status != VersionStatus.IN_REVIEW:
        raise ValidationError(_("This version is not waiting for review."), code="not_in_review")
    if edited_version(acting_user, locked):
        raise ValidationError(
            _("You worked on this draft; another ministry administrator, who edited nothing in it, must review it."),
            code="own_change",
        )
    return locked


@transaction.atomic
def version_send_back(*, version: CodeSystemVersion, acting_user: User, comment: str) -> CodeSystemVersion:
    """Return a version in review to its editors with the reviewer's comment."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what must change before publication.")})
    locked = _lock_for_review(version, acting_user)
    locked.status, locked.review_comment = VersionStatus.DRAFT, comment
    locked.save(update_fields=["status", "review_comment"])
    change_log(version=locked, actor=acting_user, action=ChangeAction.SEND_BACK, note=comment)
    audit_record(actor=acting_user, action="codelist_version_send_back", target=locked, details={"comment": comment})
    return locked


def _publish(version: CodeSystemVersion, acting_user: User | None) -> CodeSystemVersion:
    """Publish a locked version and retire the one it replaces (caller holds the locks)."""
    system = CodeSystem.objects.select_for_update().get(pk=version.system_id)
    current = (
        system.versions.select_for_update()
        .filter(status=VersionStatus.PUBLISHED)
        .exclude(pk=version.pk)
        .order_by("-effective_from")
        .first()
    )
    latest_start = (
        system.versions.filter(status__in=[VersionStatus.PUBLISHED, VersionStatus.RETIRED])
        .exclude(pk=version.pk)
        .order_by("-effective_from")
        .values_list("effective_from", flat=True)
        .first()
    )
    if latest_start is not None and version.effective_from <= latest_start:
        raise ValidationError(
            {
                "effective_from": _("The version must take effect after %(day)s, when the current one did.")
                % {"day": latest_start.strftime("%d/%m/%Y")}
            }
        )
    if current is not None:
        current.status = VersionStatus.RETIRED
        if current.effective_to is None or current.effective_to > version.effective_from:
            current.effective_to = version.effective_from
        current.save(update_fields=["status", "effective_to"])
    version.status = VersionStatus.PUBLISHED
    version.published_by, version.published_at = acting_user, timezone.now()
    version.effective_to = None
    version.save(update_fields=["status", "published_by", "published_at", "effective_to"])
    return version


@transaction.atomic
def version_publish(*, version: CodeSystemVersion, acting_user: User) -> CodeSystemVersion:
    """Publish a reviewed version: from its effective date, data is validated against it.

    Four eyes: the publisher must be a ministry administrator who edited nothing in the version
    (codelists.access.edited_version reads the change log).
    """
    locked = _lock_for_review(version, acting_user)
    if locked.effective_from is None:
        raise ValidationError({"effective_from": _("Set the date from which the version is in force.")})
    _publish(locked, acting_user)
    change_log(version=locked, actor=acting_user, action=ChangeAction.PUBLISH)
    audit_record(
        actor=acting_user,
        action="codelist_version_publish",
        target=locked,
        details={"system": locked.system.key, "label": locked.label, "effective_from": str(locked.effective_from)},
    )
    return locked


@transaction.atomic
def draft_discard(*, version: CodeSystemVersion, acting_user: User) -> None:
    """Delete an unpublished draft with its concepts (the change log keeps its trace)."""
    _require_ministry(acting_user)
    draft = _lock_draft(version)
    change_log(version=draft, actor=acting_user, action=ChangeAction.DISCARD)
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM codelists_conceptmapping WHERE concept_id IN "
            "(SELECT id FROM codelists_concept WHERE version_id = %s)",
            [draft.pk],
        )
        cur.execute("DELETE FROM codelists_concept WHERE version_id = %s", [draft.pk])
    draft.imports.all().delete()
    draft.delete()
