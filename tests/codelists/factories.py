"""Build code systems and versions for tests (generated codes, small lists)."""

import json
from datetime import date

from django.utils import timezone

from codelists.loading import SEED_DIR
from codelists.models import CodeSystem, CodeSystemVersion, Concept, VersionStatus, concept_search_text

# The code groups each list ships with (ICD-10: chronic conditions, recorded allergies).
SHIPPED_GROUPS = {
    spec["key"]: spec["groups"]
    for spec in json.loads((SEED_DIR / "systems.json").read_text(encoding="utf-8"))
    if spec.get("groups")
}

# The typed properties each list declares (the concept form is built from them).
SHIPPED_PROPERTIES = json.loads((SEED_DIR / "properties.json").read_text(encoding="utf-8"))


def system(key: str = "icd10", **kw) -> CodeSystem:
    defaults = {
        "name_vi": f"Danh mục {key}",
        "name_en": f"List {key}",
        "canonical_url": f"https://terminology.test/CodeSystem/{key}",
        "legal_basis": "QĐ thử nghiệm",
        "max_code_length": 10,
        "groups": SHIPPED_GROUPS.get(key, {}),
        "property_definitions": SHIPPED_PROPERTIES.get(key, []),
    }
    defaults.update(kw)
    obj, _ = CodeSystem.objects.get_or_create(key=key, defaults=defaults)
    return obj


def concept_rows(version: CodeSystemVersion, rows) -> list[Concept]:
    """rows: (code, display_vi) or (code, display_vi, active) or (code, display_vi, active, properties)."""
    objs = []
    for row in rows:
        code, display_vi = row[0], row[1]
        active = row[2] if len(row) > 2 else True
        props = row[3] if len(row) > 3 else {}
        objs.append(
            Concept(
                version=version,
                code=code,
                display_vi=display_vi,
                display_en="",
                active=active,
                properties=props,
                search=concept_search_text(code, display_vi, ""),
            )
        )
    return Concept.objects.bulk_create(objs)


def version(
    sys: CodeSystem,
    label: str,
    rows=(),
    *,
    status: str = VersionStatus.PUBLISHED,
    effective_from: date | None = date(2020, 1, 1),
    effective_to: date | None = None,
    based_on: CodeSystemVersion | None = None,
) -> CodeSystemVersion:
    """Create a version with its concepts; published ones are filled while still a draft."""
    v = CodeSystemVersion.objects.create(
        system=sys, label=label, status=VersionStatus.DRAFT, effective_from=effective_from, based_on=based_on
    )
    concept_rows(v, rows)
    if status != VersionStatus.DRAFT:
        v.status = status
        v.effective_to = effective_to
        if status in (VersionStatus.PUBLISHED, VersionStatus.RETIRED):
            v.published_at = timezone.now()
        v.save()
    return v
