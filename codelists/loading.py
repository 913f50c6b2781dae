"""Load the seed code lists shipped in `codelists/seed/` as published versions.

Idempotent: a version whose label is already loaded is left alone. Concepts go in with one
COPY per list (12,000 ICD-10 rows in well under a second), never row by row.

A list whose systems.json entry says `"from": "geo.communes"` has no seed file: its rows are
built from the geography tables (the one source of truth for administrative units), in the
seed's CSV form, so the checksum and the "changed source" warning work the same way. The
technical-service list `dvkt` (`"from": "dvkt-map"`) is built the same way from the side file
`icd9cm-dvkt-map.csv` (every row of the QĐ 4440 sheet), and its `"mappings"` entry loads that
file's DVKT → ICD-9-CM pairs as the version's mappings (one INSERT … SELECT FROM unnest), which
the FHIR `ConceptMap/$translate` serves (codelists/conceptmaps.py).
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.db import connection, transaction

from codelists.mapping_seed import MappingSeedError, mappings_copy, mappings_parse
from codelists.models import ChangeAction, CodeSystem, CodeSystemVersion, VersionStatus, concept_search_text
from codelists.services import _publish, change_log

SEED_DIR = Path(__file__).resolve().parent / "seed"
CSV_HEADER = ["code", "display_vi", "display_en", "parent_code", "active", "properties"]
COPY_SQL = (
    "COPY codelists_concept (version_id, code, display_vi, display_en, parent_code, active, properties, search, "
    "revision) FROM STDIN"
)


class SeedError(Exception):
    pass


@dataclass(frozen=True)
class LoadResult:
    key: str
    label: str
    status: str  # "loaded" | "unchanged" | "changed_source"
    rows: int


def _parse_rows(raw: bytes, *, name: str, max_len: int) -> list[tuple]:
    text = raw.decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header != CSV_HEADER:
        raise SeedError(f"{name}: header {header} is not {CSV_HEADER}")
    rows, seen = [], set()
    for line_no, rec in enumerate(reader, start=2):
        if len(rec) != len(CSV_HEADER):
            raise SeedError(f"{name}:{line_no}: {len(rec)} columns")
        code, vi, en, parent, active, props = rec
        if not code or len(code) > max_len or code in seen:
            raise SeedError(f"{name}:{line_no}: bad or duplicate code {code!r}")
        seen.add(code)
        props_obj = json.loads(props) if props else {}
        if not isinstance(props_obj, dict):
            raise SeedError(f"{name}:{line_no}: properties is not a JSON object")
        rows.append(
            (
                code,
                vi,
                en,
                parent,
                active.strip() in ("1", "true", "True"),
                json.dumps(props_obj, ensure_ascii=False),
                concept_search_text(code, vi, en),
            )
        )
    missing = {r[3] for r in rows if r[3]} - seen
    if missing:
        raise SeedError(f"{name}: parents not in the list: {sorted(missing)[:5]}")
    return rows


def copy_concepts(version_id: int, rows: list[tuple]) -> None:
    """COPY (code, vi, en, parent, active, properties_json, search) rows into a draft version."""
    with connection.cursor() as cur, cur.cursor.copy(COPY_SQL) as copy:
        for code, vi, en, parent, active, props, search in rows:
            copy.write_row((version_id, code, vi, en, parent, active, props, search, 1))


def _geo_communes_csv(seed_dir: Path) -> bytes:
    """The communes of the geography app as a seed CSV (code, name, kind; parent = none)."""
    from geo.selectors import commune_concept_rows

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for code, name, _kind, _province, props in commune_concept_rows():
        writer.writerow([code, name, "", "", "1", json.dumps(props, ensure_ascii=False, sort_keys=True)])
    return out.getvalue().encode("utf-8")


DVKT_MAP_FILE = "icd9cm-dvkt-map.csv"


def _dvkt_map_rows(seed_dir: Path) -> list[dict]:
    with open(seed_dir / DVKT_MAP_FILE, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _dvkt_csv(seed_dir: Path) -> bytes:
    """The equivalent technical services (mã tương đương DVKT) named in the QĐ 4440 sheet, one row
    per code (two codes are listed twice there: their sheet rows are merged)."""
    concepts: dict[str, dict] = {}
    for r in _dvkt_map_rows(seed_dir):
        c = concepts.setdefault(
            r["ma_tuong_duong"],
            {
                "name": r["ten_dvkt"],
                "props": {k: r[k] for k in ("ma_chuyen_khoa", "phan_tuyen", "phan_loai_pttt", "ngay_dong_bo") if r[k]}
                | {"sheet_rows": []},
            },
        )
        c["props"]["sheet_rows"].append(int(r["sheet_row"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for code, c in concepts.items():
        writer.writerow([code, c["name"], "", "", "1", json.dumps(c["props"], ensure_ascii=False, sort_keys=True)])
    return out.getvalue().encode("utf-8")


GENERATED = {"geo.communes": _geo_communes_csv, "dvkt-map": _dvkt_csv}


def _source_bytes(spec: dict, seed_dir: Path) -> bytes:
    if "from" in spec:
        return GENERATED[spec["from"]](seed_dir)
    return (seed_dir / spec["file"]).read_bytes()


def _checksum(raw: bytes, spec: dict, seed_dir: Path) -> str:
    digest = hashlib.sha256(raw)
    m = spec.get("mappings")
    if m:  # a changed mapping file is a changed source too
        digest.update((seed_dir / (m["file"] if isinstance(m, dict) else m)).read_bytes())
    return digest.hexdigest()


MAPPING_SQL = """
INSERT INTO codelists_conceptmapping (concept_id, target_system, target_code, target_display, relationship)
SELECT c.id, %s, m.target_code, m.target_display, %s
FROM unnest(%s::text[], %s::text[], %s::text[]) AS m(code, target_code, target_display)
JOIN codelists_concept c ON c.version_id = %s AND c.code = m.code
ON CONFLICT (concept_id, target_system, target_code) DO NOTHING
"""


def copy_mappings(version_id: int, spec: dict, seed_dir: Path) -> int:
    """Load a list's mappings from its side file with one statement (the version is still a draft:
    a published version's mappings never change)."""
    m = spec["mappings"]
    target_url = m["target_url"]
    with open(seed_dir / m["file"], encoding="utf-8", newline="") as fh:
        rows = [
            (r[m["source_column"]], r[m["target_column"]], r.get(m.get("display_column", ""), ""))
            for r in csv.DictReader(fh)
        ]
    with connection.cursor() as cur:
        cur.execute(
            MAPPING_SQL,
            [
                target_url,
                m["relationship"],
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] or "" for r in rows],
                version_id,
            ],
        )
        return cur.rowcount


def _property_definitions(seed_dir: Path) -> dict[str, list]:
    """The typed properties each list declares (seed/properties.json), keyed by list."""
    path = seed_dir / "properties.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


@transaction.atomic
def codelist_load(spec: dict, seed_dir: Path = SEED_DIR) -> LoadResult:
    """Create or update one code system from its systems.json entry and load its version."""
    raw = _source_bytes(spec, seed_dir)
    checksum = _checksum(raw, spec, seed_dir)
    system, _ = CodeSystem.objects.update_or_create(
        key=spec["key"],
        defaults={
            "name_vi": spec["name_vi"],
            "name_en": spec.get("name_en", ""),
            "canonical_url": spec["canonical_url"],
            "legal_basis": spec.get("legal_basis", ""),
            "description_vi": spec.get("description_vi", ""),
            "source_note": spec.get("source_note", ""),
            "max_code_length": spec["max_code_length"],
            "groups": spec.get("groups", {}),
            "property_definitions": _property_definitions(seed_dir).get(spec["key"], []),
        },
    )
    system = CodeSystem.objects.select_for_update().get(pk=system.pk)
    existing = system.versions.filter(label=spec["version_label"]).first()
    if existing is not None:
        status = "unchanged" if existing.source_checksum in ("", checksum) else "changed_source"
        return LoadResult(system.key, existing.label, status, existing.concepts.count())
    name = spec.get("file") or spec["from"]
    rows = _parse_rows(raw, name=name, max_len=system.max_code_length)
    version = CodeSystemVersion.objects.create(
        system=system,
        label=spec["version_label"],
        status=VersionStatus.DRAFT,
        effective_from=date.fromisoformat(spec["effective_from"]),
        change_note=spec.get("source_note", ""),
        source_checksum=checksum,
    )
    copy_concepts(version.pk, rows)
    # The list's mapping rows, while the version is still a draft: an official sheet's columns named
    # in a block (DVKT → ICD-9-CM), or a file in the project's mapping format (CVX, LOINC).
    if isinstance(spec.get("mappings"), dict):
        copy_mappings(version.pk, spec, seed_dir)
    elif spec.get("mappings"):
        map_raw = (seed_dir / spec["mappings"]).read_bytes()
        try:
            mappings_copy(version.pk, mappings_parse(map_raw, name=spec["mappings"], codes={r[0] for r in rows}))
        except MappingSeedError as exc:
            raise SeedError(str(exc)) from exc
    version.status = VersionStatus.IN_REVIEW
    version.save(update_fields=["status"])
    _publish(version, None)
    change_log(version=version, actor=None, action=ChangeAction.LOAD, note=f"{name} sha256={checksum}")
    return LoadResult(system.key, version.label, "loaded", len(rows))


def codelists_load_all(seed_dir: Path = SEED_DIR, keys: list[str] | None = None) -> list[LoadResult]:
    specs = json.loads((seed_dir / "systems.json").read_text(encoding="utf-8"))
    return [codelist_load(spec, seed_dir) for spec in specs if not keys or spec["key"] in keys]
