"""Mapping rows of a seed code list (codelists/seed/*-map.csv), loaded with the list's version.

A systems.json entry may name a `mappings` file: one row per link from a code of the list to a
code of an external system (CVX for vaccines, LOINC for lab indicators), columns
`code,target_system,target_code,target_display,relationship`. The rows go in while the version
is still a draft (a published version never changes, the database refuses), with one INSERT.
"""

import csv
import io

from django.db import connection

from codelists.models import MappingRelationship, MappingTarget

MAP_HEADER = ["code", "target_system", "target_code", "target_display", "relationship"]


class MappingSeedError(ValueError):
    pass


def mappings_parse(raw: bytes, *, name: str, codes: set[str]) -> list[tuple[str, str, str, str, str]]:
    """Check and return the rows (code, target system, target code, display, relationship)."""
    reader = csv.reader(io.StringIO(raw.decode("utf-8")))
    header = next(reader, None)
    if header != MAP_HEADER:
        raise MappingSeedError(f"{name}: header {header} is not {MAP_HEADER}")
    systems, relationships = set(MappingTarget.values), set(MappingRelationship.values)
    rows, seen = [], set()
    for line_no, rec in enumerate(reader, start=2):
        if len(rec) != len(MAP_HEADER):
            raise MappingSeedError(f"{name}:{line_no}: {len(rec)} columns")
        code, system, target, display, relationship = (v.strip() for v in rec)
        if code not in codes:
            raise MappingSeedError(f"{name}:{line_no}: {code!r} is not a code of the list")
        if system not in systems or relationship not in relationships or not target:
            raise MappingSeedError(f"{name}:{line_no}: bad target system, code or relationship")
        if (code, system, target) in seen:
            raise MappingSeedError(f"{name}:{line_no}: duplicate mapping {code} → {target}")
        seen.add((code, system, target))
        rows.append((code, system, target, display, relationship))
    return rows


def mappings_copy(version_id: int, rows: list[tuple[str, str, str, str, str]]) -> None:
    """Insert the rows for the concepts of a draft version (one statement)."""
    if not rows:
        return
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO codelists_conceptmapping (concept_id, target_system, target_code, target_display, "
            "relationship) SELECT c.id, m.system, m.target, m.display, m.relationship FROM codelists_concept c "
            "JOIN unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
            "AS m(code, system, target, display, relationship) ON m.code = c.code WHERE c.version_id = %s",
            [[r[i] for r in rows] for i in range(5)] + [version_id],
        )
