"""Who may see and change code lists.

Published and retired versions are public data: anyone may read them, signed in or not.
Drafts and versions in review exist only for ministry staff; for anyone else they do not
exist (404). Editing is for ministry editors and administrators; review and publication
for a ministry administrator who edited nothing in the version (the change log says who did).
"""

from django.db.models import QuerySet
from django.http import Http404

from codelists.models import EDIT_ACTIONS, FROZEN_STATUSES, ChangeLogEntry, CodeSystem, CodeSystemVersion, VersionStatus
from core.roles import Role, has_role

MINISTRY = (Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN)


def can_see_drafts(user) -> bool:
    return has_role(user, *MINISTRY)


def can_edit(user) -> bool:
    return has_role(user, *MINISTRY)


def edited_version(user, version: CodeSystemVersion) -> bool:
    """Whether the user started, changed, imported into or submitted this version (any entry of
    the change log, not only the last change)."""
    return (
        version.last_edited_by_id == user.pk
        or ChangeLogEntry.objects.filter(version=version, actor_id=user.pk, action__in=EDIT_ACTIONS).exists()
    )


def can_review(user, version: CodeSystemVersion) -> bool:
    """A ministry administrator who edited nothing in it reviews (publishes or sends back) a
    version in review."""
    return (
        has_role(user, Role.MINISTRY_ADMIN)
        and version.status == VersionStatus.IN_REVIEW
        and not edited_version(user, version)
    )


def versions_visible_to(user) -> QuerySet[CodeSystemVersion]:
    qs = CodeSystemVersion.objects.all()
    if can_see_drafts(user):
        return qs
    return qs.filter(status__in=FROZEN_STATUSES)


def system_get(key: str) -> CodeSystem:
    try:
        return CodeSystem.objects.get(key=key)
    except CodeSystem.DoesNotExist:
        raise Http404 from None


def version_get_for_user(user, system: CodeSystem, version_id) -> CodeSystemVersion:
    """Return one version of the system the user may read, or raise Http404."""
    try:
        return (
            versions_visible_to(user)
            .select_related("system", "last_edited_by", "submitted_by", "published_by", "created_by", "based_on")
            .get(system=system, pk=int(version_id))
        )
    except (CodeSystemVersion.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def version_by_label_for_user(user, system: CodeSystem, label: str) -> CodeSystemVersion:
    try:
        return versions_visible_to(user).select_related("system").get(system=system, label=label)
    except CodeSystemVersion.DoesNotExist:
        raise Http404 from None
