"""Reads on code lists: the latest version, concept search, comparison and history."""

import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from codelists.access import versions_visible_to
from codelists.models import (
    FROZEN_STATUSES,
    ChangeLogEntry,
    CodeSystem,
    CodeSystemVersion,
    Concept,
    VersionStatus,
    search_normalise,
)
from core.replicas import connection  # the primary, or a lag-tolerant block's replica

COMPARED_FIELDS = ("display_vi", "display_en", "parent_code", "active", "properties")


def latest_published(system: CodeSystem) -> CodeSystemVersion | None:
    """Return the most recent published version (the one a new draft starts from)."""
    return system.versions.filter(status__in=FROZEN_STATUSES).order_by("-effective_from", "-id").first()


def open_draft(system: CodeSystem) -> CodeSystemVersion | None:
    return system.versions.filter(status__in=[VersionStatus.DRAFT, VersionStatus.IN_REVIEW]).first()


def system_list_for_user(user) -> QuerySet[CodeSystem]:
    visible = versions_visible_to(user)
    return CodeSystem.objects.annotate(
        version_count=Count("versions", filter=Q(versions__in=visible)),
    ).order_by("key")


def version_list_for_user(user, system: CodeSystem) -> QuerySet[CodeSystemVersion]:
    return (
        versions_visible_to(user)
        .filter(system=system)
        .select_related("published_by", "last_edited_by")
        .order_by("-effective_from", "-id")
    )


def concept_search(version: CodeSystemVersion, q: str = "", *, active: str = "") -> QuerySet[Concept]:
    """Find concepts by code or by text typed with or without diacritics.

    The search column is normalised (lower-case, no diacritics, đ → d) and has a trigram
    index, so "viem phoi" finds "Viêm phổi" without scanning the table.
    """
    qs = Concept.objects.filter(version=version)
    q = (q or "").strip()
    if q:
        # The search column starts with the code, so one trigram-indexed LIKE covers codes too.
        qs = qs.filter(search__contains=search_normalise(q))
    if active in ("0", "1"):
        qs = qs.filter(active=active == "1")
    return qs.order_by("code")


@dataclass(frozen=True)
class ConceptDiff:
    code: str
    change: str  # "added" | "removed" | "changed"
    before: dict | None
    after: dict | None

    @property
    def changed_fields(self) -> list[str]:
        if not (self.before and self.after):
            return []
        return [f for f in COMPARED_FIELDS if self.before.get(f) != self.after.get(f)]


_DIFF_SQL = """
WITH a AS (SELECT code, display_vi, display_en, parent_code, active, properties
           FROM codelists_concept WHERE version_id = %(a)s),
     b AS (SELECT code, display_vi, display_en, parent_code, active, properties
           FROM codelists_concept WHERE version_id = %(b)s),
     d AS (
       SELECT COALESCE(a.code, b.code) AS code,
              CASE WHEN a.code IS NULL THEN 'added' WHEN b.code IS NULL THEN 'removed' ELSE 'changed' END AS change,
              CASE WHEN a.code IS NULL THEN NULL ELSE
                json_build_object('display_vi', a.display_vi, 'display_en', a.display_en,
                  'parent_code', a.parent_code, 'active', a.active, 'properties', a.properties) END AS before,
              CASE WHEN b.code IS NULL THEN NULL ELSE
                json_build_object('display_vi', b.display_vi, 'display_en', b.display_en,
                  'parent_code', b.parent_code, 'active', b.active, 'properties', b.properties) END AS after
       FROM a FULL OUTER JOIN b ON a.code = b.code
       WHERE a.code IS NULL OR b.code IS NULL
          OR (a.display_vi, a.display_en, a.parent_code, a.active, a.properties)
             IS DISTINCT FROM (b.display_vi, b.display_en, b.parent_code, b.active, b.properties)
     )
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def version_compare_counts(a: CodeSystemVersion, b: CodeSystemVersion) -> dict[str, int]:
    with connection.cursor() as cur:
        cur.execute(_DIFF_SQL + "SELECT change, count(*) FROM d GROUP BY change", {"a": a.pk, "b": b.pk})  # noqa: S608 — constant SQL
        counts = dict(cur.fetchall())
    return {k: counts.get(k, 0) for k in ("added", "removed", "changed")}


def version_compare(
    a: CodeSystemVersion, b: CodeSystemVersion, *, change: str = "", offset: int = 0, limit: int | None = None
) -> Iterator[ConceptDiff]:
    """Yield the differences from version a to version b, ordered by code (set-based SQL)."""
    sql = _DIFF_SQL + "SELECT code, change, before, after FROM d"  # noqa: S608 — constant SQL, values are parameters
    params = {"a": a.pk, "b": b.pk}
    if change in ("added", "removed", "changed"):
        sql += " WHERE change = %(change)s"
        params["change"] = change
    sql += " ORDER BY code"
    if limit is not None:
        sql += " LIMIT %(limit)s OFFSET %(offset)s"
        params.update(limit=limit, offset=offset)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for code, kind, before, after in cur:
            yield ConceptDiff(code, kind, _json(before), _json(after))


def change_history(system: CodeSystem, *, code: str = "", version: CodeSystemVersion | None = None):
    qs = ChangeLogEntry.objects.filter(system=system).select_related("actor")
    if code:
        qs = qs.filter(code=code)
    if version is not None:
        qs = qs.filter(version=version)
    return qs.order_by("-at", "-id")


def version_in_force_on(system: CodeSystem, day) -> CodeSystemVersion | None:
    """Return the published or retired version whose [effective_from, effective_to) holds `day`."""
    return (
        system.versions.filter(status__in=FROZEN_STATUSES, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day))
        .order_by("-effective_from")
        .first()
    )


def review_base(version: CodeSystemVersion, day) -> CodeSystemVersion | None:
    """The version a draft is reviewed against: the one in force today, else the one it copies."""
    in_force = version_in_force_on(version.system, day)
    if in_force is not None and in_force.pk != version.pk:
        return in_force
    return version.based_on if version.based_on_id != version.pk else None


def version_change_summary(a: CodeSystemVersion, b: CodeSystemVersion) -> dict[str, int]:
    """Count the codes added, changed, retired (active → inactive) and removed from a to b."""
    with connection.cursor() as cur:
        cur.execute(
            _DIFF_SQL  # noqa: S608 — constant SQL, values are parameters
            + """SELECT
                   count(*) FILTER (WHERE change = 'added'),
                   count(*) FILTER (WHERE change = 'changed' AND NOT retired),
                   count(*) FILTER (WHERE change = 'changed' AND retired),
                   count(*) FILTER (WHERE change = 'removed')
                 FROM (SELECT change, COALESCE((before->>'active')::boolean AND NOT (after->>'active')::boolean,
                                               FALSE) AS retired FROM d) AS x""",
            {"a": a.pk, "b": b.pk},
        )
        added, changed, retired, removed = cur.fetchone()
    return {"added": added, "changed": changed, "retired": retired, "removed": removed}
