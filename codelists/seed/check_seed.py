#!/usr/bin/env python3
"""Verify the seed files: header, row counts, unique codes, parents exist, JSON properties, no empty display_vi."""

import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = ["code", "display_vi", "display_en", "parent_code", "active", "properties"]
EXPECTED = {
    "icd10.csv": 12433,
    "icd9cm.csv": 1276,
    "beneficiary-group.csv": 43,
    "benefit-level.csv": 5,
    "visit-type.csv": 9,
    "treatment-result.csv": 8,
    "discharge-type.csv": 5,
    "sex.csv": 3,
    "ethnicity.csv": 54,
    "lab-indicator.csv": 32,
    "vaccine.csv": 12,
    "province.csv": 34,
}
KEYS = [
    "key",
    "name_vi",
    "name_en",
    "canonical_url",
    "legal_basis",
    "description_vi",
    "version_label",
    "effective_from",
    "source_note",
    "file",
    "max_code_length",
]
errors = []
systems = json.load(open(os.path.join(HERE, "systems.json"), encoding="utf-8"))
assert len({s["key"] for s in systems}) == len(systems)
for sysd in systems:
    if "from" in sysd:  # built from the geography tables by load_codelists: no seed file
        continue
    if [k for k in sysd if k not in ("groups", "mappings")] != KEYS:
        errors.append(f"{sysd.get('key')}: keys {list(sysd)}")
    groups = sysd.get("groups", {})
    if not isinstance(groups, dict) or not all(
        isinstance(p, list) and all(isinstance(x, str) and x for x in p) for p in groups.values()
    ):
        errors.append(f"{sysd.get('key')}: groups must map a name to a list of code prefixes")
    raw = open(os.path.join(HERE, sysd["file"]), "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        errors.append(f"{sysd['file']}: BOM")
    rows = list(csv.reader(raw.decode("utf-8").splitlines()))
    if rows[0] != HEADER:
        errors.append(f"{sysd['file']}: header {rows[0]}")
    rows = [dict(zip(HEADER, r, strict=False)) for r in rows[1:]]
    codes = [r["code"] for r in rows]
    dup = len(codes) - len(set(codes))
    cs = set(codes)
    bad_parent = [r["code"] for r in rows if r["parent_code"] and r["parent_code"] not in cs]
    empty = [r["code"] for r in rows if not r["display_vi"].strip() or not r["code"].strip()]
    bad_active = [r["code"] for r in rows if r["active"] not in ("0", "1")]
    bad_json = []
    for r in rows:
        try:
            if not isinstance(json.loads(r["properties"]), dict):
                bad_json.append(r["code"])
        except ValueError:
            bad_json.append(r["code"])
    maxlen = max(len(c) for c in codes)
    # cycles
    parent = {r["code"]: r["parent_code"] for r in rows}
    cyc = 0
    for c in codes:
        seen, x = set(), c
        while x:
            if x in seen:
                cyc += 1
                break
            seen.add(x)
            x = parent.get(x, "")
    status = "OK"
    for cond, msg in (
        (len(rows) != EXPECTED.get(sysd["file"], len(rows)), f"rows {len(rows)} != {EXPECTED.get(sysd['file'])}"),
        (dup, f"{dup} duplicate codes"),
        (bad_parent, f"missing parents {bad_parent[:5]}"),
        (empty, f"empty code/display_vi {empty[:5]}"),
        (bad_active, "bad active"),
        (bad_json, f"bad json {bad_json[:5]}"),
        (maxlen != sysd["max_code_length"], "max_code_length"),
        (cyc, f"{cyc} cycles"),
    ):
        if cond:
            errors.append(f"{sysd['file']}: {msg}")
            status = "FAIL"
    print(f"{sysd['file']:24s} rows={len(rows):6d} unique={len(cs):6d} max_len={maxlen:2d} {status}")
# ICD-10 specific
rows = list(csv.DictReader(open(os.path.join(HERE, "icd10.csv"), encoding="utf-8")))
kinds = {}
sheet_rows = 0
for r in rows:
    p = json.loads(r["properties"])
    kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
    sheet_rows += len(p.get("sheet_rows", []))
print("icd10 kinds", kinds, "sheet rows covered", sheet_rows)
if sheet_rows != 12219:
    errors.append(f"icd10 covers {sheet_rows} sheet rows, expected 12219")
m = list(csv.DictReader(open(os.path.join(HERE, "icd9cm-dvkt-map.csv"), encoding="utf-8")))
icd9 = {r["code"] for r in csv.DictReader(open(os.path.join(HERE, "icd9cm.csv"), encoding="utf-8"))}
print(
    "icd9cm-dvkt-map rows", len(m), "codes missing from icd9cm.csv:", sum(1 for r in m if r["icd9cm_code"] not in icd9)
)
if len(m) != 8035 or any(r["icd9cm_code"] not in icd9 for r in m):
    errors.append("icd9 map")
print("\n".join(errors) if errors else "ALL CHECKS PASSED")
sys.exit(1 if errors else 0)
