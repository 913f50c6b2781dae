"""XML 130 tables: the field specification and the checks derived from it.

The specification is ``spec/xml130_4750.json``, built from the official spreadsheets by
``spec/build_spec.py`` (never edited by hand).  :func:`parse_hoso` reads every FILEHOSO of
one HOSO into plain rows (``dict`` field -> string, every code kept as a string, empty
values as None), checks each value against its field spec (type, size, required, date
format, enumerations, the gateway's format rules) and the treatment-record rules (exactly
one XML1 with MA_LK; every other table's MA_LK equal to it).  Mapping rows to book records
is in :mod:`healthbook.intake.mapping`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from lxml import etree

from healthbook.identifiers import parse_xml130_date

from .envelope import HoSo
from .problems import DEFAULT_POLICY, Problem, SeverityPolicy, problem
from .xmlsafe import DEFAULT_MAX_BYTES, leaf_text, local, parse_xml

SPEC_PATH = Path(__file__).resolve().parent / "spec" / "xml130_4750.json"

#: Tables mapped into the book; the others are kept as received (raw rows).
MAPPED_TABLES = ("XML1", "XML2", "XML3", "XML4", "XML5", "XML7", "XML8", "XML9", "XML11", "XML13", "XML14")

_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

# Fields the pre-reform sheets mark required that never reject a file since 1 July 2025: there
# are no districts any more (blank is the normal value; an old code is accepted and ignored),
# QĐ 3176 says to leave the commune blank when it has no code, and an administrative field never
# rejects clinical data. The residence is read against geography with warnings only
# (healthbook.intake.residence, which also reports a blank province).
OPTIONAL_SINCE_REFORM = frozenset({"MATINH_CU_TRU", "MAHUYEN_CU_TRU", "MAXA_CU_TRU"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    max_size: int | None
    required: bool
    rule: dict | None
    gateway: dict | None
    description_vi: str = ""


@dataclass(frozen=True)
class TableSpec:
    key: str
    root: str
    list: str | None
    record: str
    fields: tuple[FieldSpec, ...]
    names: frozenset[str] = frozenset()
    required: tuple[str, ...] = ()
    # field name -> function(value) -> problem code or None, only for fields with a check
    checks: dict = field(default_factory=dict, compare=False)
    date_order: tuple[tuple[str, str], ...] = ()  # (field, field it must not precede)
    # field name -> max size, for fields whose only check is `len(value) > max size`
    limits: dict = field(default_factory=dict, compare=False)


def _checker(fs: FieldSpec):
    """A fast check for one non-empty value (None when the field has nothing to check).

    Same answers as `check_value` (for a non-empty value), with the spec's choices resolved
    once here instead of on every value (≈ 220 checked fields per visit)."""
    rule, g = fs.rule, fs.gateway
    rkind = rule["kind"] if rule is not None and rule["kind"] in ("date", "enum") else None
    gkind = g["kind"] if g is not None and g["kind"] in ("regex", "not_all_zero", "enum") else None
    n = fs.max_size
    if fs.type == "string" and rkind is None and gkind is None:
        if n is None:
            return None
        return lambda v: "FIELD_TOO_LONG" if len(v) > n else None
    if gkind is not None:
        return lambda v: check_value(fs, v)  # rare (≈ 10 fields): keep the general path
    number = fs.type == "number"
    full = _NUMBER.fullmatch
    lengths = tuple(rule["lengths"]) if rkind == "date" else ()
    partial = bool(rule.get("partial", False)) if rkind == "date" else False
    multi = bool(rule.get("multi")) if rkind == "date" else False
    values = rule["values"] if rkind == "enum" else ()

    def check(v: str) -> str | None:
        if number:
            if not full(v):
                return "FIELD_NOT_NUMBER"
            if n is not None and len(v) - v.count(".") - v.startswith("-") > n:
                return "FIELD_TOO_LONG"
        elif n is not None and len(v) > n:
            return "FIELD_TOO_LONG"
        if rkind == "date":
            if multi:
                if not _date_ok(v, rule):
                    return "FIELD_DATE"
            else:
                part = v.strip()
                if len(part) not in lengths or not _date_part_ok(part, partial):
                    return "FIELD_DATE"
        elif rkind == "enum" and v not in values:
            return "FIELD_ENUM"
        return None

    return check


def _size_only(fs: FieldSpec) -> bool:
    """A string field whose only check is its maximum size (same test as `_checker`)."""
    rule, g = fs.rule, fs.gateway
    rkind = rule["kind"] if rule is not None and rule["kind"] in ("date", "enum") else None
    gkind = g["kind"] if g is not None and g["kind"] in ("regex", "not_all_zero", "enum") else None
    return fs.type == "string" and rkind is None and gkind is None and fs.max_size is not None


def _table(key: str, t: dict) -> TableSpec:
    fields = tuple(
        FieldSpec(
            f["name"],
            f["type"],
            f["max_size"],
            f["required"] and f["name"] not in OPTIONAL_SINCE_REFORM,
            f["rule"],
            f["gateway"],
            f["description_vi"],
        )
        for f in t["fields"]
    )
    checks = {fs.name: c for fs in fields if (c := _checker(fs)) is not None}
    order = tuple((fs.name, fs.gateway["field"]) for fs in fields if fs.gateway and fs.gateway["kind"] == "gte")
    limits = {fs.name: fs.max_size for fs in fields if _size_only(fs)}
    return TableSpec(
        key,
        t["root"],
        t["list"],
        t["record"],
        fields,
        frozenset(fs.name for fs in fields),
        tuple(fs.name for fs in fields if fs.required),
        checks,
        order,
        limits,
    )


@lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> dict[str, TableSpec]:
    """Load the JSON specification (cached)."""
    data = json.loads(Path(path or SPEC_PATH).read_text(encoding="utf-8"))
    return {key: _table(key, t) for key, t in data["tables"].items()}


@lru_cache(maxsize=65536)
def _date_part_ok(part: str, partial: bool) -> bool:
    return not isinstance(parse_xml130_date(part, allow_partial=partial), list)


def _date_ok(value: str, rule: dict) -> bool:
    parts = value.split(";") if rule.get("multi") else (value,)
    lengths = rule["lengths"]
    partial = rule.get("partial", False)
    for part in parts:
        part = part.strip()
        if len(part) not in lengths or not _date_part_ok(part, partial):
            return False
    return True


def check_value(fs: FieldSpec, value: str | None) -> str | None:
    """Return the problem code for one value, or None when it is acceptable."""
    if value is None:
        return "FIELD_REQUIRED" if fs.required else None
    if fs.type == "number":
        if not _NUMBER.fullmatch(value):
            return "FIELD_NOT_NUMBER"
        if fs.max_size is not None and len(value) - value.count(".") - value.startswith("-") > fs.max_size:
            return "FIELD_TOO_LONG"
    elif fs.max_size is not None and len(value) > fs.max_size:
        return "FIELD_TOO_LONG"
    rule = fs.rule
    if rule is not None:
        kind = rule["kind"]
        if kind == "date" and not _date_ok(value, rule):
            return "FIELD_DATE"
        if kind == "enum" and value not in rule["values"]:
            return "FIELD_ENUM"
    g = fs.gateway
    if g is not None:
        kind = g["kind"]
        if kind == "regex" and not re.fullmatch(g["pattern"], value):
            return "FIELD_GATEWAY_FORMAT"
        if kind == "not_all_zero" and (not value.isdigit() or set(value) == {"0"}):
            return "FIELD_GATEWAY_FORMAT"
        if kind == "enum" and value not in g["values"]:
            return "FIELD_GATEWAY_FORMAT"
    return None


def row_key(row: dict, position: int) -> str:
    ma_lk = row.get("MA_LK") or "?"
    stt = row.get("STT")
    return f"{ma_lk}/{stt}" if stt else (ma_lk if position == 1 else f"{ma_lk}#{position}")


_local = threading.local()


def _nested_or_comment(root, single: bool) -> bool:
    """True when the document has a comment, or an element below field level (one compiled
    XPath, evaluated in C; ElementPath's ``find`` walks the levels in Python). XPath objects
    are kept per thread."""
    xp = getattr(_local, "xpaths", None)
    if xp is None:
        xp = _local.xpaths = (
            etree.XPath("boolean(//comment() | /*/*/*/*/*)"),  # root/list/record/field/child
            etree.XPath("boolean(//comment() | /*/*/*)"),  # root/field/child
        )
    return xp[single](root)


def parse_table(
    spec: TableSpec, content: bytes, *, policy: SeverityPolicy = DEFAULT_POLICY, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[dict], list[Problem]]:
    """Parse one inner table document into rows and field problems."""
    t = spec.key
    root, problems = parse_xml(content, max_bytes=max_bytes, table=t)
    if root is None:
        return [], problems
    if local(root.tag) != spec.root:
        return [], [problem("FILE_STRUCTURE", table=t, value=local(root.tag)[:100], policy=policy)]
    if spec.list is None:
        records = [root]
    else:
        lists = [c for c in root if local(c.tag) == spec.list]
        if len(lists) != 1:
            return [], [problem("FILE_STRUCTURE", table=t, field=spec.list, policy=policy)]
        records = [c for c in lists[0] if isinstance(c.tag, str)]
        if any(local(c.tag) != spec.record for c in records):
            return [], [problem("FILE_STRUCTURE", table=t, field=spec.record, policy=policy)]
    simple = not _nested_or_comment(root, spec.list is None)
    rows: list[dict] = []
    for pos, rec in enumerate(records, start=1):
        if simple:
            # No comment and no element below field level anywhere in the document (checked
            # once, in C): every child is a leaf element whose .text is its whole value.
            row = {c.tag: (v.strip() or None) if (v := c.text) else None for c in rec}
            if len(row) == len(rec) and spec.names.issuperset(row):
                # the usual record: known fields, each once (no FIELD_UNKNOWN / FIELD_REPEATED)
                local_problems = _checked(spec, row)
            else:
                row, local_problems = _row(spec, [(c.tag, c.text) for c in rec], [])
        else:
            items, local_problems = [], []
            for child in rec.iterchildren(etree.Element):
                value, ok = leaf_text(child)
                if not ok:
                    local_problems.append(("XML_MIXED_CONTENT", local(child.tag), None))
                    continue
                items.append((child.tag, value))
            row, local_problems = _row(spec, items, local_problems)
        if local_problems:
            key = row_key(row, pos)
            for code, name, value in local_problems:
                problems.append(problem(code, table=t, record_key=key, field=name, value=value, policy=policy))
        rows.append(row)
    return rows, problems


def _checked(spec: TableSpec, row: dict) -> list[tuple[str, str, str | None]]:
    """The field checks of a row whose fields are all known and each present once, in the same
    order as `_row` reports them: per field in document order, then required, then date order."""
    out = []
    limits, checks = spec.limits, spec.checks
    for name, value in row.items():
        if value is not None:
            n = limits.get(name)
            if n is not None:  # a plain string field: its only check is its size, inline
                if len(value) > n:
                    out.append(("FIELD_TOO_LONG", name, value))
                continue
            chk = checks.get(name)
            if chk is not None:
                code = chk(value)
                if code is not None:
                    out.append((code, name, value))
    _record_rules(spec, row, out)
    return out


def _row(spec: TableSpec, items, local_problems: list) -> tuple[dict, list]:
    """The general path: any tag (namespaced, unknown, repeated) and raw values."""
    names, checks = spec.names, spec.checks
    row: dict[str, str | None] = {}
    for name, value in items:
        if "}" in name:
            name = local(name)
        if value is not None:
            value = value.strip() or None
        if name not in names:
            local_problems.append(("FIELD_UNKNOWN", name[:100], None))
            continue
        if name in row:
            local_problems.append(("FIELD_REPEATED", name, value))
            continue
        row[name] = value
        if value is not None:
            chk = checks.get(name)
            if chk is not None:
                code = chk(value)
                if code is not None:
                    local_problems.append((code, name, value))
    _record_rules(spec, row, local_problems)
    return row, local_problems


def _record_rules(spec: TableSpec, row: dict, out: list) -> None:
    for name in spec.required:
        if row.get(name) is None:
            out.append(("FIELD_REQUIRED", name, None))
    for name, before in spec.date_order:
        value, other = row.get(name), row.get(before)
        if value and other and len(other) == len(value) and value < other:
            out.append(("FIELD_DATE_ORDER", name, value))


@dataclass
class HoSoTables:
    """The rows of one HOSO, by table type, plus unknown tables kept as received."""

    position: int
    ma_lk: str | None
    tables: dict[str, list[dict]] = field(default_factory=dict)
    unknown: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    checkin: bool = False  # a check-in: the HOSO holds only the check-in table XML0


CHECKIN_TABLE = "XML0"


def _checkin_rules(out: HoSoTables, pkey: str, policy: SeverityPolicy) -> HoSoTables:
    """A HOSO holding only XML0 is a check-in (sent at the desk, before any XML1 exists): its rows
    share one MA_LK, which keys the check-in."""
    out.checkin = True
    rows = out.tables[CHECKIN_TABLE]
    if not rows:
        if not out.problems:  # an empty list; a broken table was reported already
            out.problems.append(problem("CHECKIN_EMPTY", table=CHECKIN_TABLE, record_key=pkey, policy=policy))
        return out
    out.ma_lk = rows[0].get("MA_LK")
    if not out.ma_lk:
        return out  # FIELD_REQUIRED was reported
    for pos, row in enumerate(rows[1:], start=2):
        if row.get("MA_LK") != out.ma_lk:
            key = row_key(row, pos)
            out.problems.append(
                problem(
                    "MA_LK_MISMATCH",
                    table=CHECKIN_TABLE,
                    record_key=key,
                    field="MA_LK",
                    value=row.get("MA_LK"),
                    policy=policy,
                )
            )
        for name in ("SO_CCCD", "MA_THE_BHYT", "MA_CSKCB"):
            if row.get(name) != rows[0].get(name):
                out.problems.append(
                    problem(
                        "CHECKIN_ROWS_DIFFER",
                        table=CHECKIN_TABLE,
                        record_key=row_key(row, pos),
                        field=name,
                        value=row.get(name),
                        policy=policy,
                    )
                )
    return out


def parse_hoso(
    hoso: HoSo,
    *,
    spec: dict[str, TableSpec] | None = None,
    policy: SeverityPolicy = DEFAULT_POLICY,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> HoSoTables:
    """Parse every file of one HOSO and apply the treatment-record rules."""
    spec = spec or load_spec()
    out = HoSoTables(position=hoso.position, ma_lk=None)
    pkey = f"HOSO#{hoso.position}"
    for f in hoso.files:
        if f.loaihoso is None or f.content is None:
            continue  # already reported by envelope.read
        ts = spec.get(f.loaihoso)
        if ts is None:
            out.problems.append(problem("FILE_TYPE_UNKNOWN", table=f.loaihoso[:20], record_key=pkey, policy=policy))
            out.unknown[f.loaihoso[:20]] = f.content
            continue
        if f.loaihoso in out.tables:
            out.problems.append(problem("FILE_TYPE_REPEATED", table=f.loaihoso, record_key=pkey, policy=policy))
            continue
        rows, problems = parse_table(ts, f.content, policy=policy, max_bytes=max_bytes)
        out.tables[f.loaihoso] = rows
        out.problems.extend(problems)
    xml1 = out.tables.get("XML1")
    if xml1 is None:
        if set(out.tables) == {CHECKIN_TABLE} and not out.unknown:
            return _checkin_rules(out, pkey, policy)
        out.problems.append(problem("HOSO_NO_XML1", table="XML1", record_key=pkey, policy=policy))
        return out
    if len(xml1) != 1:
        out.problems.append(problem("XML1_REPEATED", table="XML1", record_key=pkey, policy=policy))
        return out
    head = xml1[0]
    out.ma_lk = head.get("MA_LK")
    if not out.ma_lk:
        out.problems.append(problem("XML1_NO_MA_LK", table="XML1", record_key=pkey, field="MA_LK", policy=policy))
        return out
    for kind, rows in out.tables.items():
        if kind in ("XML1", "XML12"):
            continue  # XML12 (medical assessment) has no MA_LK
        ts = spec[kind]
        same_as = [fs.name for fs in ts.fields if fs.gateway and fs.gateway["kind"] == "same_as_xml1"]
        for pos, row in enumerate(rows, start=1):
            key = row_key(row, pos)
            if row.get("MA_LK") != out.ma_lk:
                out.problems.append(
                    problem(
                        "MA_LK_MISMATCH",
                        table=kind,
                        record_key=key,
                        field="MA_LK",
                        value=row.get("MA_LK"),
                        policy=policy,
                    )
                )
            for name in same_as:
                v = row.get(name)
                if v is not None and head.get(name) is not None and v != head.get(name):
                    out.problems.append(
                        problem(
                            "FIELD_DIFFERS_FROM_XML1", table=kind, record_key=key, field=name, value=v, policy=policy
                        )
                    )
    return out
