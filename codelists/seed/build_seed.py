#!/usr/bin/env python3
# ruff: noqa: E501, B007, UP031 — one-off data-parsing script: long literal notes from the sources are kept whole
"""Build the national code-list seed files (systems.json + one CSV per system).

Reads (read-only):
  /work/shared/data/icd/QD4469-ICD10-phu-luc.xlsx   (QĐ 4469/QĐ-BYT, ICD-10 + annexes E/E1/A1-A4)
  /work/shared/data/icd/ICD9CM-QD4440.xlsx          (QĐ 4440/QĐ-BYT, DVKT <-> ICD-9-CM)
  /work/shared/domain/provinces.csv                 (34 provinces, QĐ 19/2025/QĐ-TTg)
Small lists are transcribed below from /work/shared/domain/vn-ehb.md and the QĐ 4750 / 3176
annex workbooks (/work/shared/data/xml130). Writes next to this file. See SOURCES.md.

Run:  /work/main/.venv/bin/python codelists/seed/build_seed.py
Env:  SEED_DATA_DIR (default /work/shared/data), SEED_DOMAIN_DIR (default /work/shared/domain)
"""

import csv
import datetime as dt
import json
import os
import re
import sys
from collections import OrderedDict, defaultdict

import openpyxl

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("SEED_DATA_DIR", "/work/shared/data")
DOMAIN = os.environ.get("SEED_DOMAIN_DIR", "/work/shared/domain")
ICD10_XLSX = os.path.join(DATA, "icd", "QD4469-ICD10-phu-luc.xlsx")
ICD9_XLSX = os.path.join(DATA, "icd", "ICD9CM-QD4440.xlsx")
PROVINCES_CSV = os.path.join(DOMAIN, "provinces.csv")
BASE_URL = "https://terminology.sskdt.example.vn/CodeSystem/"
HEADER = ["code", "display_vi", "display_en", "parent_code", "active", "properties"]


def s(x):
    """Cell -> stripped string ('' for None / blanks)."""
    if x is None:
        return ""
    return re.sub(r"\s+", " ", str(x)).strip()


def pjson(d):
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def write_csv(name, rows):
    path = os.path.join(HERE, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        for r in rows:
            w.writerow(
                [
                    r["code"],
                    r["display_vi"],
                    r.get("display_en", ""),
                    r.get("parent_code", ""),
                    1 if r.get("active", True) else 0,
                    pjson(r.get("properties", {})),
                ]
            )
    return len(rows)


# --------------------------------------------------------------------------------------------
# ICD-10 (QĐ 4469/QĐ-BYT)
# --------------------------------------------------------------------------------------------
CODE_RE = re.compile(r"^[A-Z]\d\d[0-9A-Z]{0,2}$")

# A3.x age annexes, transcribed from each section title in the workbook (see SOURCES.md).
# min/max: {"value": n, "unit": "day"|"year", "inclusive": bool}; None = unbounded.
AGE_ANNEXES = {
    "A3.1": (
        "newborn",
        "Bệnh trẻ sơ sinh",
        "phù hợp tuổi: 0 - 365 ngày",
        {"value": 0, "unit": "day", "inclusive": True},
        {"value": 365, "unit": "day", "inclusive": True},
    ),
    "A3.2": (
        "infant",
        "Bệnh trẻ nhỏ",
        "tuổi hợp lệ: 0 ngày - 2 tuổi",
        {"value": 0, "unit": "day", "inclusive": True},
        {"value": 2, "unit": "year", "inclusive": True},
    ),
    "A3.3": (
        "child",
        "Bệnh ở trẻ lớn",
        "tuổi hợp lệ: 0 ngày – 10 tuổi",
        {"value": 0, "unit": "day", "inclusive": True},
        {"value": 10, "unit": "year", "inclusive": True},
    ),
    "A3.4": (
        "adolescent",
        "Bệnh ở thanh thiếu niên",
        "tuổi hợp lệ: 0 ngày – 19 tuổi",
        {"value": 0, "unit": "day", "inclusive": True},
        {"value": 19, "unit": "year", "inclusive": True},
    ),
    "A3.5": (
        "over_27_days",
        "Bệnh ở trẻ mới đẻ",
        "tuổi hợp lệ: trên 27 ngày tuổi",
        {"value": 27, "unit": "day", "inclusive": False},
        None,
    ),
    "A3.6": (
        "child_1y_plus",
        "Bệnh trẻ em",
        "tuổi hợp lệ: 1 tuổi trở lên",
        {"value": 1, "unit": "year", "inclusive": True},
        None,
    ),
    "A3.7": (
        "puberty",
        "Bệnh của tuổi dậy thì",
        "tuổi hợp lệ: 8 – 19 tuổi",
        {"value": 8, "unit": "year", "inclusive": True},
        {"value": 19, "unit": "year", "inclusive": True},
    ),
    "A3.8": (
        "obstetric_gynaecological",
        "Bệnh sản phụ khoa",
        "tuổi hợp lệ: 9 – 60 tuổi",
        {"value": 9, "unit": "year", "inclusive": True},
        {"value": 60, "unit": "year", "inclusive": True},
    ),
    "A3.9": (
        "adult_over_15",
        "Bệnh của người trưởng thành",
        "tuổi hợp lệ: trên 15 tuổi",
        {"value": 15, "unit": "year", "inclusive": False},
        None,
    ),
    "A3.10": (
        "adult_over_30",
        "Bệnh người lớn",
        "tuổi hợp lệ: trên 30 tuổi",
        {"value": 30, "unit": "year", "inclusive": False},
        None,
    ),
}
SECTION_RE = re.compile(r"Phụ lục\s+(A3\.\d+)")


def iso_ts(v):
    v = s(v)
    if not v:
        return None
    try:
        return dt.datetime.strptime(v, "%d/%m/%Y %H:%M:%S").isoformat()
    except ValueError:
        return v


def annex_codes(ws, default_section=None):
    """Yield (section, code_nodot, excel_row, row_values) for code rows; section switches on titles."""
    section = default_section
    for i, r in enumerate(ws.iter_rows(values_only=True), start=1):
        a = s(r[0]) if r else ""
        m = SECTION_RE.search(a)
        if m:
            section = m.group(1)
            continue
        if CODE_RE.match(a):
            yield section, a, i, r


def build_icd10(report):
    wb = openpyxl.load_workbook(ICD10_XLSX, read_only=True)
    ws = wb["ICD10"]
    raw = list(ws.iter_rows(min_row=4, values_only=True))
    report["icd10_sheet_rows"] = len(raw)

    chapters = OrderedDict()
    groups = OrderedDict()  # code -> dict(level, name_en, name_vi, parent)
    codes = OrderedDict()  # code (dot, no marker) -> dict
    nodot_index = {}
    sg2_parent_votes = defaultdict(lambda: defaultdict(int))
    notes = []

    for idx, r in enumerate(raw, start=4):
        ch, ch_range, ch_en, ch_vi = s(r[0]), s(r[1]), s(r[2]), s(r[3])
        mg, mg_en, mg_vi = s(r[4]), s(r[5]), s(r[6])
        g1, g1_en, g1_vi = s(r[7]), s(r[8]), s(r[9])
        g2, g2_en, g2_vi = s(r[10]), s(r[11]), s(r[12])
        typ = re.sub(r"[^A-Z0-9]", "", s(r[13]))
        code_raw = s(r[16])
        nodot = s(r[17])
        name_en, name_vi = s(r[18]), s(r[19])
        note = s(r[20])
        upd = iso_ts(r[21])
        marker = "dagger" if "†" in code_raw else ("asterisk" if "*" in code_raw else None)
        code = re.sub(r"[^A-Z0-9.]", "", code_raw)

        chapters.setdefault(ch, {"range": ch_range, "en": ch_en, "vi": ch_vi})
        groups.setdefault(mg, {"level": "main", "en": mg_en, "vi": mg_vi, "parent": ch, "chapter": ch})
        if g1:
            groups.setdefault(g1, {"level": "sub1", "en": g1_en, "vi": g1_vi, "parent": mg, "chapter": ch})
        if g2:
            sg2_parent_votes[g2][g1 or mg] += 1
            groups.setdefault(g2, {"level": "sub2", "en": g2_en, "vi": g2_vi, "parent": None, "chapter": ch})
        deepest = g2 or g1 or mg

        if code in codes:
            # 82 three-character categories appear twice: a plain header row and a row carrying
            # the dagger/asterisk mark and an update time. Merge: keep the marked row's data.
            c = codes[code]
            c["sheet_rows"].append(idx)
            if marker or upd:
                c.update(
                    {
                        "marker": marker or c["marker"],
                        "updated_at": upd or c["updated_at"],
                        "en": name_en or c["en"],
                        "vi": name_vi or c["vi"],
                        "code_raw": code_raw,
                    }
                )
            continue
        codes[code] = {
            "code_raw": code_raw,
            "nodot": nodot,
            "en": name_en,
            "vi": name_vi,
            "marker": marker,
            "updated_at": upd,
            "note": note,
            "group": deepest,
            "chapter": ch,
            "sheet_type": typ,
            "sheet_rows": [idx],
        }
        nodot_index[nodot] = code

    # sub-group-2 parents: majority vote (one row, C64, has sub-group 2 but a blank sub-group 1)
    for g2, votes in sg2_parent_votes.items():
        best = max(votes.items(), key=lambda kv: kv[1])[0]
        groups[g2]["parent"] = best
        if len(votes) > 1:
            notes.append(f"sub-group {g2}: parent in sheet varies {dict(votes)}; used {best}")

    # ---- annexes ----
    props = defaultdict(dict)
    missing = defaultdict(list)

    def resolve(nd, sheet, row):
        c = nodot_index.get(nd)
        if c is None:
            missing[sheet].append((nd, row))
        return c

    annex_counts = {}
    # A2: never main diagnosis
    n = 0
    for _, nd, row, r in annex_codes(wb["A2 Mã ICD10 ko mã bệnh chính"]):
        c = resolve(nd, "A2", row)
        n += 1
        if c:
            props[c]["not_main_diagnosis"] = True
    annex_counts["A2"] = n
    # A4.1 / A4.2 sex
    for sheet, sex in (("A4.1", "F"), ("A4.2", "M")):
        n = 0
        for _, nd, row, r in annex_codes(wb[sheet]):
            c = resolve(nd, sheet, row)
            n += 1
            if c:
                prev = props[c].get("sex")
                if prev and prev != sex:
                    notes.append(f"{c} is in both A4.1 and A4.2")
                props[c]["sex"] = sex
        annex_counts[sheet] = n
    # A3.x ages
    for sheet, default in (
        ("A3.1", "A3.1"),
        ("A3.2-A3.3-A3.4", "A3.2"),
        ("A3.5", "A3.5"),
        ("A3.6", "A3.6"),
        ("A3.7 - A3.8", "A3.7"),
        ("A3.9", "A3.9"),
        ("A3.10", "A3.10"),
    ):
        for sec, nd, row, r in annex_codes(wb[sheet], default):
            annex_counts[sec] = annex_counts.get(sec, 0) + 1
            c = resolve(nd, sec, row)
            if not c:
                continue
            group, label, text, mn, mx = AGE_ANNEXES[sec]
            rule = {"annex": sec, "group": group, "label_vi": label, "text_vi": text, "min": mn, "max": mx}
            lst = props[c].setdefault("age_restrictions", [])
            if all(x["annex"] != sec for x in lst):
                lst.append(rule)
    # A1 dagger/asterisk pairs
    n = 0
    for _, nd, row, r in annex_codes(wb["A1"]):
        n += 1
        dag = resolve(nd, "A1", row)
        ast = resolve(s(r[2]), "A1", row)
        main = resolve(s(r[4]), "A1", row)
        if not (dag and ast and main):
            continue
        props[dag].setdefault("pairs_as_dagger", []).append({"asterisk": ast, "main": main})
        props[ast].setdefault("pairs_as_asterisk", []).append({"dagger": dag, "main": main})
    annex_counts["A1"] = n
    # E / E1 DRG major diagnostic category
    for sheet, key in (("E - ICD10 Mã bệnh chính", "E"), ("E1 - Không ghép DRG", "E1")):
        n = 0
        for _, nd, row, r in annex_codes(wb[sheet]):
            n += 1
            c = resolve(nd, key, row)
            if not c:
                continue
            mdc = s(r[3])
            mdc = int(mdc) if mdc.isdigit() else mdc
            lst = props[c].setdefault("drg_mdc", [])
            if mdc not in lst:
                lst.append(mdc)
        annex_counts[key] = n
    report["icd10_annex_rows"] = annex_counts
    report["icd10_annex_unmatched_counts"] = {k: len(v) for k, v in missing.items()}
    report["icd10_a1_pairs_applied"] = sum(len(v.get("pairs_as_dagger", [])) for v in props.values())
    # annex codes that are not in the ICD10 sheet (5th-character extensions used by the DRG grouper,
    # or codes no longer in the list): kept in a side file, with the nearest ancestor present in the list
    with open(os.path.join(HERE, "icd10-annex-unmatched.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["annex", "code_nodot", "sheet_row", "nearest_listed_ancestor"])
        for annex, lst in missing.items():
            for nd, row in lst:
                anc = ""
                for k in range(len(nd) - 1, 2, -1):
                    if nd[:k] in nodot_index:
                        anc = nodot_index[nd[:k]]
                        break
                w.writerow([annex, nd, row, anc])

    # ---- assemble rows ----
    rows = []
    for ch, d in chapters.items():
        rows.append(
            {
                "code": ch,
                "display_vi": d["vi"],
                "display_en": d["en"],
                "parent_code": "",
                "properties": {"kind": "chapter", "code_range": d["range"]},
            }
        )
    for g, d in groups.items():
        rows.append(
            {
                "code": g,
                "display_vi": d["vi"],
                "display_en": d["en"],
                "parent_code": d["parent"],
                "properties": {"kind": "group", "group_level": d["level"], "chapter": d["chapter"]},
            }
        )
    cat_group = {c: d["group"] for c, d in codes.items() if len(c) == 3}
    has_children = {c[:3] for c in codes if len(c) > 3}
    for c, d in codes.items():
        is_cat = len(c) == 3
        p = {"kind": "category" if is_cat else "code", "code_nodot": d["nodot"]}
        if d["marker"]:
            p["marker"] = d["marker"]
            p["code_as_printed"] = d["code_raw"]
        p["leaf"] = not (is_cat and c in has_children)
        if d["updated_at"]:
            p["updated_at"] = d["updated_at"]
        if d["note"]:
            p["note"] = d["note"]
        if not is_cat and d["sheet_type"] != c[:3]:
            p["sheet_type_code"] = d["sheet_type"]
            p["sheet_group"] = d["group"]
            notes.append(f"{c}: sheet MÃ LOẠI={d['sheet_type']} / group {d['group']}; parent set to {c[:3]}")
        p["sheet_rows"] = d["sheet_rows"]
        p.update(props.get(c, {}))
        rows.append(
            {
                "code": c,
                "display_vi": d["vi"],
                "display_en": d["en"],
                "parent_code": d["group"] if is_cat else c[:3],
                "properties": p,
            }
        )
        if is_cat and cat_group[c] != d["group"]:
            pass
    report["icd10_notes"] = notes
    report["icd10_unique_codes"] = len(codes)
    report["icd10_merged_duplicates"] = sum(1 for d in codes.values() if len(d["sheet_rows"]) > 1)
    report["icd10_chapters"] = len(chapters)
    report["icd10_groups"] = len(groups)
    return rows


# --------------------------------------------------------------------------------------------
# ICD-9-CM (QĐ 4440/QĐ-BYT)
# --------------------------------------------------------------------------------------------
# The workbook stores MA ICD-9-CM as numbers, so 96.70 reads as 96.7 and 08.43 as 8.43.
# Padding the integer part to 2 digits is safe. Whether "x.y" is really "x.y0" cannot be seen in
# the number; it was resolved once against the list of valid ICD-9-CM (CMS v32) procedure codes
# (3,882 codes) — see SOURCES.md. These 69 values are 2-decimal codes whose trailing zero was lost:
TWO_DECIMAL_ZERO = {
    "00.50",
    "00.70",
    "03.90",
    "06.50",
    "08.70",
    "11.60",
    "12.00",
    "12.40",
    "13.70",
    "21.00",
    "22.50",
    "23.70",
    "26.30",
    "32.30",
    "32.50",
    "34.20",
    "35.20",
    "35.50",
    "36.10",
    "37.20",
    "37.80",
    "38.10",
    "38.30",
    "38.40",
    "38.60",
    "38.80",
    "39.30",
    "39.90",
    "40.50",
    "41.00",
    "42.10",
    "42.40",
    "44.40",
    "45.00",
    "45.30",
    "45.90",
    "46.10",
    "46.20",
    "51.10",
    "75.50",
    "77.20",
    "77.40",
    "77.80",
    "78.00",
    "78.40",
    "78.60",
    "79.20",
    "79.30",
    "79.60",
    "80.10",
    "80.30",
    "80.50",
    "80.70",
    "81.00",
    "81.20",
    "81.80",
    "84.10",
    "84.60",
    "86.60",
    "86.70",
    "88.40",
    "88.50",
    "88.60",
    "89.50",
    "93.90",
    "96.70",
    "98.20",
    "99.10",
    "99.60",
}
# These 8 one-decimal values are ICD-9-CM 3-character categories (subdivided, so not valid leaf codes);
# their names in the sheet are the category titles. Kept as written, flagged valid_leaf=false.
CATEGORY_CODES = {"02.3", "13.1", "20.2", "20.3", "27.5", "29.3", "38.2", "71.7"}


def icd9_code(v):
    if isinstance(v, str):
        return v.strip()
    two = f"{v:05.2f}"
    if abs(round(v, 1) - v) > 1e-9:
        return two
    return two if two in TWO_DECIMAL_ZERO else f"{v:04.1f}"


def fix_formula_text(v):
    """Cells typed as '=- text' were stored as (array) formulas -> #NAME?; recover the typed text."""
    t = getattr(v, "text", v)
    if isinstance(t, str) and t.startswith("="):
        t = t[1:]
        parts = [p.strip(" -") for p in t.split("\n") if p.strip(" -")]
        return "; ".join(parts), True
    return s(t), False


def build_icd9(report):
    wb = openpyxl.load_workbook(ICD9_XLSX)  # not read-only: need formula text of two cells
    ws = wb["dmicd9"]
    header = [s(c.value) for c in ws[1]]
    assert header[:11] == [
        "machuyenkhoa21",
        "chuyenkhoa21",
        "matuongduong",
        "tenchuyenkhoa21",
        "phantuyen",
        "phanloai",
        "maicd9",
        "tenicd9",
        "chuongicd9",
        "idchuongicd9",
        "ngaydongbo",
    ], header
    chapters = OrderedDict()
    codes = OrderedDict()
    maprows = []
    fixed_names = []
    for i, row in enumerate(ws.iter_rows(min_row=2), start=2):
        v = [c.value for c in row]
        code = icd9_code(v[6])
        name, fixed = fix_formula_text(v[7])
        if fixed:
            fixed_names.append((i, code))
        chap_txt = s(v[8])
        m = re.match(r"\((\d\d)-(\d\d)\)\s*(.*)", chap_txt)
        chap_code = f"{m.group(1)}-{m.group(2)}"
        chapters.setdefault(chap_code, {"name": m.group(3).strip(), "id": v[9]})
        prefix = int(code.split(".")[0])
        assert int(m.group(1)) <= prefix <= int(m.group(2)), (i, code, chap_code)
        d = codes.setdefault(code, {"names": OrderedDict(), "chapter": chap_code, "rows": 0, "fixed": False})
        d["names"][name] = d["names"].get(name, 0) + 1
        d["rows"] += 1
        d["fixed"] |= fixed
        sync = v[10]
        if isinstance(sync, dt.datetime):
            sync = sync.date().isoformat()
        else:
            try:
                sync = dt.datetime.strptime(s(sync), "%d/%m/%Y").date().isoformat()
            except ValueError:
                sync = s(sync)
        maprows.append(
            {
                "sheet_row": i,
                "ma_tuong_duong": s(v[2]),
                "ten_dvkt": s(v[3]),
                "ma_chuyen_khoa": "" if v[0] is None else str(v[0]),
                "ten_chuyen_khoa": s(v[1]),
                "phan_tuyen": s(v[4]),
                "phan_loai_pttt": s(v[5]),
                "icd9cm_code": code,
                "ten_icd9cm": name,
                "ngay_dong_bo": sync,
            }
        )
    rows = []
    for c, d in chapters.items():
        rows.append(
            {
                "code": c,
                "display_vi": d["name"],
                "display_en": "",
                "parent_code": "",
                "properties": {"kind": "chapter", "chapter_id": d["id"]},
            }
        )
    for c, d in codes.items():
        names = sorted(d["names"].items(), key=lambda kv: -kv[1])
        p = {
            "kind": "category" if c in CATEGORY_CODES else "code",
            "code_nodot": c.replace(".", ""),
            "valid_leaf": c not in CATEGORY_CODES,
            "dvkt_mapping_rows": d["rows"],
        }
        if len(names) > 1:
            p["other_names_vi"] = [n for n, _ in names[1:]]
        if d["fixed"]:
            p["name_recovered_from_formula_text"] = True
        rows.append(
            {"code": c, "display_vi": names[0][0], "display_en": "", "parent_code": d["chapter"], "properties": p}
        )
    report["icd9_sheet_rows"] = len(maprows)
    report["icd9_unique_codes"] = len(codes)
    report["icd9_chapters"] = len(chapters)
    report["icd9_fixed_names"] = fixed_names
    # full row-level mapping (every sheet row) -> separate file, not a code system
    path = os.path.join(HERE, "icd9cm-dvkt-map.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(maprows[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(maprows)
    return rows


# --------------------------------------------------------------------------------------------
# Small lists
# --------------------------------------------------------------------------------------------
def simple(code, vi, en, props=None, parent=""):
    return {"code": code, "display_vi": vi, "display_en": en, "parent_code": parent, "properties": props or {}}


def build_sex():
    src = "QĐ 4750/QĐ-BYT phụ lục, Bảng 1 GIOI_TINH"
    return [
        simple("1", "Nam", "Male", {"xml_field": "GIOI_TINH", "source": src}),
        simple("2", "Nữ", "Female", {"xml_field": "GIOI_TINH", "source": src}),
        simple("3", "Chưa xác định", "Undetermined", {"xml_field": "GIOI_TINH", "source": src}),
    ]


def build_treatment_result():
    rows = [
        ("1", "Khỏi", "Cured", {}),
        ("2", "Đỡ", "Improved", {}),
        ("3", "Không thay đổi", "Unchanged", {}),
        ("4", "Nặng hơn", "Worse", {}),
        ("5", "Tử vong", "Died", {"display_vi_qd3176_draft": "Tử vong tại cơ sở KBCB"}),
        ("6", "Tiên lượng nặng xin về", "Severe prognosis, taken home at family request", {}),
        (
            "7",
            "Chưa xác định (không thuộc một trong các mã kết quả điều trị nêu trên)",
            "Undetermined (none of the above)",
            {},
        ),
        ("8", "Tử vong ngoại viện", "Died outside the facility", {"added_by": "QĐ 4750/QĐ-BYT"}),
    ]
    out = []
    for c, vi, en, p in rows:
        out.append(
            simple(
                c,
                vi,
                en,
                dict({"xml_field": "KET_QUA_DTRI", "source": "QĐ 130/QĐ-BYT Bảng 1 as amended by QĐ 4750/QĐ-BYT"}, **p),
            )
        )
    return out


def build_discharge_type():
    rows = [
        ("1", "Ra viện", "Discharged", None),
        (
            "2",
            "Chuyển tuyến theo yêu cầu chuyên môn",
            "Referral (transfer) on medical grounds",
            "Chuyển tuyến/Chuyển cơ sở KBCB theo yêu cầu chuyên môn",
        ),
        ("3", "Trốn viện", "Absconded", None),
        ("4", "Xin ra viện", "Discharged at own request", None),
        (
            "5",
            "Chuyển tuyến theo yêu cầu người bệnh",
            "Referral (transfer) at the patient's request",
            "Chuyển tuyến/Chuyển cơ sở KBCB theo yêu cầu người bệnh",
        ),
    ]
    out = []
    for c, vi, en, v3176 in rows:
        p = {"xml_field": "MA_LOAI_RV", "source": "QĐ 130/QĐ-BYT Bảng 1 (unchanged by QĐ 4750/QĐ-BYT)"}
        if c in ("2", "5"):
            p["requires_xml13_referral"] = True
        if v3176:
            p["display_vi_qd3176_draft"] = v3176
        out.append(simple(c, vi, en, p))
    return out


def build_visit_type():
    # Labels: QĐ 4750/3176 annex text (Bảng 1 NGAY_RA/SO_NGAY_DTRI notes, Bảng 8 MA_LOAI_KCB, Bảng 5 note).
    rows = [
        ("01", "Khám bệnh", "Outpatient examination", "outpatient", "Bảng 1 NGAY_RA note (QĐ 4750)", 0),
        ("02", "Điều trị ngoại trú", "Outpatient treatment", "outpatient", "Bảng 8 MA_LOAI_KCB (QĐ 4750)", "ra-vao+1"),
        ("03", "Điều trị nội trú", "Inpatient treatment", "inpatient", "Bảng 8 MA_LOAI_KCB (QĐ 4750)", "ra-vao+1"),
        (
            "04",
            "Điều trị nội trú ban ngày",
            "Day inpatient treatment",
            "inpatient",
            "Bảng 8 MA_LOAI_KCB (QĐ 4750)",
            "ra-vao+1",
        ),
        (
            "05",
            "Điều trị ngoại trú các bệnh mạn tính dài ngày liên tục trong năm (danh mục Thông tư 46/2016/TT-BYT), "
            "có khám bệnh và lĩnh thuốc",
            "Year-round outpatient treatment of long-term chronic diseases (TT 46/2016 list): examination and drugs",
            "outpatient",
            "Bảng 1 NGAY_RA note (QĐ 4750); Bảng 8 addition (QĐ 3176 draft)",
            "drug_days",
        ),
        (
            "06",
            "Điều trị lưu tại Trạm Y tế tuyến xã, Phòng khám đa khoa khu vực",
            "Stay-in treatment at a commune health station or regional polyclinic",
            "inpatient",
            "Bảng 8 addition (QĐ 3176 draft); Bảng 8 note (QĐ 4750)",
            "ra-vao+1",
        ),
        (
            "07",
            "Nhận thuốc theo hẹn (không khám bệnh)",
            "Drugs collected by appointment (no examination)",
            "outpatient",
            "Bảng 1 NGAY_RA note (QĐ 4750)",
            0,
        ),
        (
            "08",
            "Điều trị ngoại trú các bệnh mạn tính dài ngày liên tục trong năm (danh mục Thông tư 46/2016/TT-BYT), "
            "có khám bệnh, có thực hiện các dịch vụ kỹ thuật và/hoặc được sử dụng thuốc",
            "Year-round outpatient treatment of long-term chronic diseases (TT 46/2016 list): examination, "
            "technical services and/or drugs",
            "outpatient",
            "Bảng 1 NGAY_RA note (QĐ 4750); Bảng 8 addition (QĐ 3176 draft)",
            "service_days",
        ),
        (
            "09",
            "Điều trị nội trú dưới 04 (bốn) giờ",
            "Inpatient treatment under 4 hours",
            "inpatient",
            "Bảng 8 addition (QĐ 3176 draft)",
            0,
        ),
    ]
    out = []
    for c, vi, en, setting, src, days in rows:
        out.append(
            simple(
                c,
                vi,
                en,
                {"xml_field": "MA_LOAI_KCB", "setting": setting, "so_ngay_dtri_rule_qd4750": days, "label_source": src},
            )
        )
    return out


BENEFICIARY_CODES = (
    "DN HX CH NN TK HC XK HT TB NO CT XB TN CS QN CA CY XN MS CC CK CB KC HD TE BT HN DT DK XD TS "
    "TC TQ TA TY HG LS PV CN HS SV GB GD"
).split()
# meanings as given in vn-ehb.md §3.2 ([SECONDARY]); precision "code" = meaning given for that code alone,
# "group" = the doc gives one meaning for a set of codes.
BENEFICIARY_MEANINGS = {
    "DN": ("Người lao động trong doanh nghiệp", "Enterprise employee", "code"),
    "CH": ("Người lao động trong cơ quan nhà nước", "State-body employee", "code"),
    "HC": ("Cán bộ, công chức", "Civil servant", "code"),
    "HT": ("Người hưởng lương hưu", "Pensioner", "code"),
    "XB": ("Cán bộ xã, phường, thị trấn đã nghỉ việc", "Retired commune cadre", "code"),
    "TN": ("Người hưởng trợ cấp thất nghiệp", "Receiving unemployment benefit", "code"),
    "QN": ("Quân nhân", "Military", "code"),
    "CA": ("Công an nhân dân", "Police", "code"),
    "CY": ("Người làm công tác cơ yếu", "Cipher staff", "code"),
    "HN": ("Người thuộc hộ gia đình nghèo", "Poor household", "code"),
    "CN": ("Người thuộc hộ gia đình cận nghèo", "Near-poor household", "code"),
    "TE": ("Trẻ em dưới 6 tuổi", "Child under 6", "code"),
    "HS": ("Học sinh", "Pupil", "code"),
    "SV": ("Sinh viên", "Student", "code"),
    "GD": ("Người tham gia theo hộ gia đình", "Household member (family contribution)", "code"),
    "NN": ("Người lao động trong cơ quan, tổ chức nước ngoài", "Employee of a foreign agency", "code"),
}
for _c in ("DT", "DK"):
    BENEFICIARY_MEANINGS[_c] = (
        "Người dân tộc thiểu số / người sống ở vùng có điều kiện kinh tế - xã hội khó khăn "
        "(nhóm; chưa rõ nghĩa riêng của từng mã)",
        "Ethnic minority / disadvantaged area (group meaning; per-code meaning unknown)",
        "group",
    )
for _c in ("CC", "CK", "CB", "KC", "TB", "LS"):
    BENEFICIARY_MEANINGS[_c] = (
        "Người có công với cách mạng, cựu chiến binh và đối tượng liên quan (nhóm; chưa rõ nghĩa riêng của từng mã)",
        "People with merit / veterans (group meaning; per-code meaning unknown)",
        "group",
    )
for _c in ("TS", "TC", "TQ", "TA", "TY"):
    BENEFICIARY_MEANINGS[_c] = (
        "Nhóm đối tượng khác do ngân sách nhà nước hỗ trợ (nhóm; chưa rõ nghĩa riêng của từng mã)",
        "Other state-supported group (group meaning; per-code meaning unknown)",
        "group",
    )


def build_beneficiary():
    assert len(BENEFICIARY_CODES) == 43 and len(set(BENEFICIARY_CODES)) == 43
    out = []
    for c in BENEFICIARY_CODES:
        p = {"code_source": "VNeID integration form prefix list (vn-ehb.md §3.2, SECONDARY)"}
        if c in BENEFICIARY_MEANINGS:
            vi, en, prec = BENEFICIARY_MEANINGS[c]
            p["meaning_precision"] = prec
        else:
            vi = f"Mã đối tượng {c} (chưa có diễn giải trong tài liệu nguồn)"
            en = f"Beneficiary group {c} (meaning not in the project's sources)"
            p["meaning_precision"] = "unknown"
        if c in ("QN", "CA", "CY"):
            p["benefit_level"] = 5
            p["benefit_level_source"] = "vn-ehb.md §3.2 (SECONDARY)"
        else:
            p["benefit_level"] = None
            p["benefit_level_note"] = "mapping object code -> benefit level (QĐ 1351/QĐ-BHXH) not found"
        out.append(simple(c, vi, en, p))
    return out


def build_benefit_level():
    rows = [
        (
            "1",
            "Hưởng 100% chi phí KCB, kể cả các khoản có giới hạn tỷ lệ thanh toán; chi phí vận chuyển",
            "100% incl. items with payment-rate caps lifted; transport",
            100,
        ),
        (
            "2",
            "Hưởng 100% chi phí KCB (có giới hạn tỷ lệ thanh toán đối với một số thuốc, vật tư)",
            "100%, with rate caps on some drugs/supplies",
            100,
        ),
        ("3", "Hưởng 95% chi phí KCB", "95%", 95),
        ("4", "Hưởng 80% chi phí KCB", "80%", 80),
        (
            "5",
            "Hưởng 100% chi phí KCB, kể cả ngoài phạm vi được hưởng BHYT; chi phí vận chuyển",
            "100% even outside BHYT scope; transport (QN, CA, CY)",
            100,
        ),
    ]
    return [
        simple(
            c,
            vi,
            en,
            {
                "coverage_percent": pct,
                "card_position": 3,
                "source": "vn-ehb.md §3.2 (ehoadon.online, tinhte.vn; SECONDARY)",
            },
        )
        for c, vi, en, pct in rows
    ]


def build_province():
    out = []
    with open(PROVINCES_CSV, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            name = r["name_vi"].strip()
            kind = "city" if name.startswith("Thành phố") else "province"
            out.append(
                simple(
                    r["code"].strip(),
                    name,
                    r["name_en"].strip(),
                    {
                        "unit_type": kind,
                        "old_codes": [x.strip() for x in r["old_codes"].split(";") if x.strip()],
                        "population_approx": int(r["population_approx"]),
                        "population_is_approximate": True,
                        "valid_from": "2025-07-01",
                    },
                )
            )
    return out


ETHNIC = [
    ("Kinh", "Kinh (Viet)"),
    ("Tày", "Tay"),
    ("Thái", "Thai"),
    ("Hoa", "Hoa (ethnic Chinese)"),
    ("Khơ-me", "Khmer"),
    ("Mường", "Muong"),
    ("Nùng", "Nung"),
    ("Hmông", "Hmong"),
    ("Dao", "Dao"),
    ("Gia-rai", "Gia Rai (Jarai)"),
    ("Ngái", "Ngai"),
    ("Ê-đê", "E De (Rade)"),
    ("Ba-na", "Ba Na (Bahnar)"),
    ("Xơ-đăng", "Xo Dang (Sedang)"),
    ("Sán Chay", "San Chay"),
    ("Cơ-ho", "Co Ho (Koho)"),
    ("Chăm", "Cham"),
    ("Sán Dìu", "San Diu"),
    ("Hrê", "Hre"),
    ("Mnông", "Mnong"),
    ("Ra-glai", "Ra Glai"),
    ("Xtiêng", "Xtieng (Stieng)"),
    ("Bru-Vân Kiều", "Bru-Van Kieu"),
    ("Thổ", "Tho"),
    ("Giáy", "Giay"),
    ("Cơ-tu", "Co Tu (Katu)"),
    ("Gié-Triêng", "Gie Trieng"),
    ("Mạ", "Ma"),
    ("Khơ-mú", "Kho Mu (Khmu)"),
    ("Co", "Co"),
    ("Ta-ôi", "Ta Oi"),
    ("Chơ-ro", "Cho Ro"),
    ("Kháng", "Khang"),
    ("Xinh-mun", "Xinh Mun"),
    ("Hà Nhì", "Ha Nhi"),
    ("Chu-ru", "Chu Ru"),
    ("Lào", "Lao"),
    ("La Chí", "La Chi"),
    ("La Ha", "La Ha"),
    ("Phù Lá", "Phu La"),
    ("La Hủ", "La Hu"),
    ("Lự", "Lu"),
    ("Lô Lô", "Lo Lo"),
    ("Chứt", "Chut"),
    ("Mảng", "Mang"),
    ("Pà Thẻn", "Pa Then"),
    ("Cơ Lao", "Co Lao"),
    ("Cống", "Cong"),
    ("Bố Y", "Bo Y"),
    ("Si La", "Si La"),
    ("Pu Péo", "Pu Peo"),
    ("Brâu", "Brau"),
    ("Ơ Đu", "O Du"),
    ("Rơ-măm", "Ro Mam"),
]


def build_ethnicity():
    assert len(ETHNIC) == 54
    out = []
    for i, (vi, en) in enumerate(ETHNIC, start=1):
        code = "%02d" % i
        if i <= 4:
            p = {
                "code_official": True,
                "code_status": "domain-doc",
                "code_note": "01-04 given in vn-ehb.md §5 (QĐ 121-TCTK/PPCĐ)",
            }
        else:
            p = {
                "code_official": False,
                "code_status": "secondary-unverified",
                "code_note": "order per QĐ 121-TCTK/PPCĐ as reproduced in several independent public code files; "
                "not checked against the GSO original",
            }
        out.append(simple(code, vi, en, p))
    return out


def rng(low, high, unit, **extra):
    d = {"unit": unit, "ref_low": low, "ref_high": high}
    d.update(extra)
    return d


# Reference intervals: typical adult values quoted by Vietnamese hospital/lab pages (SECONDARY /
# UNVERIFIED). Each laboratory must configure its own. NOT from QĐ 7603 Phụ lục 11 / QĐ 1227.
LAB = [
    # code (unaccented name, QĐ 3176 interim rule), display_vi, display_en, category, props
    ("Glucose", "Glucose", "Glucose (fasting, plasma)", "biochemistry", rng(3.9, 6.4, "mmol/L")),
    ("Ure", "Ure", "Urea", "biochemistry", rng(2.5, 7.5, "mmol/L")),
    (
        "Creatinin",
        "Creatinin",
        "Creatinine",
        "biochemistry",
        rng(
            None,
            None,
            "µmol/L",
            ref_by_sex={"M": {"ref_low": 62, "ref_high": 120}, "F": {"ref_low": 53, "ref_high": 100}},
        ),
    ),
    (
        "Aciduric",
        "Acid uric",
        "Uric acid",
        "biochemistry",
        rng(
            None,
            None,
            "µmol/L",
            ref_by_sex={"M": {"ref_low": 180, "ref_high": 420}, "F": {"ref_low": 150, "ref_high": 360}},
        ),
    ),
    (
        "AST",
        "AST (GOT)",
        "Aspartate aminotransferase",
        "biochemistry",
        rng(
            None,
            None,
            "U/L",
            ref_by_sex={"M": {"ref_low": None, "ref_high": 40}, "F": {"ref_low": None, "ref_high": 37}},
        ),
    ),
    (
        "ALT",
        "ALT (GPT)",
        "Alanine aminotransferase",
        "biochemistry",
        rng(
            None,
            None,
            "U/L",
            ref_by_sex={"M": {"ref_low": None, "ref_high": 40}, "F": {"ref_low": None, "ref_high": 37}},
        ),
    ),
    (
        "GGT",
        "GGT",
        "Gamma-glutamyl transferase",
        "biochemistry",
        rng(None, None, "U/L", ref_by_sex={"M": {"ref_low": 11, "ref_high": 50}, "F": {"ref_low": 7, "ref_high": 32}}),
    ),
    ("Bilirubintoanphan", "Bilirubin toàn phần", "Total bilirubin", "biochemistry", rng(None, 17, "µmol/L")),
    ("Bilirubintructiep", "Bilirubin trực tiếp", "Direct bilirubin", "biochemistry", rng(None, 4.3, "µmol/L")),
    ("Proteintoanphan", "Protein toàn phần", "Total protein", "biochemistry", rng(65, 82, "g/L")),
    ("Albumin", "Albumin", "Albumin", "biochemistry", rng(35, 50, "g/L")),
    ("Cholesteroltoanphan", "Cholesterol toàn phần", "Total cholesterol", "biochemistry", rng(3.9, 5.2, "mmol/L")),
    ("Triglycerid", "Triglycerid", "Triglycerides", "biochemistry", rng(0.46, 1.88, "mmol/L")),
    ("HDLC", "HDL-C", "HDL cholesterol", "biochemistry", rng(0.9, None, "mmol/L")),
    ("LDLC", "LDL-C", "LDL cholesterol", "biochemistry", rng(None, 3.4, "mmol/L")),
    ("HbA1c", "HbA1c", "Glycated haemoglobin", "biochemistry", rng(4.0, 6.0, "%")),
    ("Natri", "Natri (Na+)", "Sodium", "biochemistry", rng(135, 145, "mmol/L")),
    ("Kali", "Kali (K+)", "Potassium", "biochemistry", rng(3.5, 5.0, "mmol/L")),
    ("Clo", "Clo (Cl-)", "Chloride", "biochemistry", rng(98, 106, "mmol/L")),
    ("Calcitoanphan", "Calci toàn phần", "Total calcium", "biochemistry", rng(2.15, 2.6, "mmol/L")),
    (
        "RBC",
        "Số lượng hồng cầu (RBC)",
        "Red blood cell count",
        "haematology",
        rng(
            None,
            None,
            "T/L",
            ref_by_sex={"M": {"ref_low": 4.2, "ref_high": 5.4}, "F": {"ref_low": 4.0, "ref_high": 4.9}},
        ),
    ),
    (
        "HGB",
        "Lượng huyết sắc tố (HGB)",
        "Haemoglobin",
        "haematology",
        rng(
            None,
            None,
            "g/L",
            ref_by_sex={"M": {"ref_low": 130, "ref_high": 160}, "F": {"ref_low": 120, "ref_high": 150}},
        ),
    ),
    (
        "HCT",
        "Hematocrit (HCT)",
        "Haematocrit",
        "haematology",
        rng(
            None,
            None,
            "L/L",
            ref_by_sex={"M": {"ref_low": 0.40, "ref_high": 0.47}, "F": {"ref_low": 0.37, "ref_high": 0.42}},
        ),
    ),
    ("MCV", "Thể tích trung bình hồng cầu (MCV)", "Mean corpuscular volume", "haematology", rng(80, 100, "fL")),
    ("MCH", "Lượng HST trung bình hồng cầu (MCH)", "Mean corpuscular haemoglobin", "haematology", rng(27, 32, "pg")),
    (
        "MCHC",
        "Nồng độ HST trung bình hồng cầu (MCHC)",
        "Mean corpuscular haemoglobin concentration",
        "haematology",
        rng(320, 360, "g/L"),
    ),
    ("WBC", "Số lượng bạch cầu (WBC)", "White blood cell count", "haematology", rng(4.0, 10.0, "G/L")),
    ("NEU_PERCENT", "Tỷ lệ bạch cầu trung tính (NEU%)", "Neutrophils %", "haematology", rng(45, 75, "%")),
    ("LYM_PERCENT", "Tỷ lệ bạch cầu lympho (LYM%)", "Lymphocytes %", "haematology", rng(20, 40, "%")),
    ("PLT", "Số lượng tiểu cầu (PLT)", "Platelet count", "haematology", rng(150, 400, "G/L")),
]


def build_lab():
    out = [
        simple("biochemistry", "Hóa sinh máu", "Blood biochemistry", {"kind": "group", "code_official": False}),
        simple(
            "haematology",
            "Huyết học (tổng phân tích tế bào máu)",
            "Haematology (full blood count)",
            {"kind": "group", "code_official": False},
        ),
    ]
    for code, vi, en, cat, p in LAB:
        props = {
            "kind": "indicator",
            "code_official": False,
            "code_scheme": "QĐ 3176 interim rule: indicator name without diacritics, written together",
            "population": "adult",
        }
        props.update(p)
        props["ref_verified"] = False
        props["ref_note"] = "typical adult interval from public Vietnamese lab pages; each laboratory sets its own"
        out.append(simple(code, vi, en, props, parent=cat))
    return out


def dose(n, value, unit, note=None):
    d = {"dose": n, "age": {"value": value, "unit": unit}}
    if note:
        d["note"] = note
    return d


# The expanded-immunisation programme (Tiêm chủng mở rộng) as Thông tư 10/2024/TT-BYT (13/6/2024,
# in force 01/8/2024; replaces TT 38/2017/TT-BYT) lists it: 11 diseases, the vaccines by kind and
# their schedule. Codes stay project-defined (`TCMR-*`, no official vaccine code list exists); the
# codes of the first seed are kept so that stored doses keep their meaning. See SOURCES.md.
TT10 = "TT 10/2024/TT-BYT"
TT38 = "TT 38/2017/TT-BYT (schedule carried over; TT 10/2024 wording not read)"
VACCINES = [
    (
        "TCMR-BCG",
        "Vắc xin lao (BCG)",
        "BCG (tuberculosis)",
        ["tuberculosis"],
        [dose(1, 0, "day", "một lần trong vòng 1 tháng sau khi sinh")],
        {"schedule_source": TT10},
    ),
    (
        "TCMR-VGB-SS",
        "Vắc xin viêm gan B đơn giá liều sơ sinh",
        "Monovalent hepatitis B vaccine, birth dose",
        ["hepatitis B"],
        [dose(1, 0, "day", "trong vòng 24 giờ sau khi sinh")],
        {"schedule_source": TT10},
    ),
    (
        "TCMR-DPT-VGB-HIB",
        "Vắc xin phối hợp Bạch hầu - Ho gà - Uốn ván - Viêm gan B - Hib (5 trong 1)",
        "Pentavalent DTP-HepB-Hib",
        ["diphtheria", "pertussis", "tetanus", "hepatitis B", "Haemophilus influenzae type b"],
        [
            dose(1, 2, "month", "khi trẻ đủ 2 tháng tuổi"),
            dose(2, 3, "month", "ít nhất 1 tháng sau lần 1"),
            dose(3, 4, "month", "ít nhất 1 tháng sau lần 2"),
        ],
        {"schedule_source": TT10},
    ),
    (
        "TCMR-OPV",
        "Vắc xin bại liệt uống (OPV)",
        "Oral polio vaccine",
        ["poliomyelitis"],
        [
            dose(1, 2, "month", "khi trẻ đủ 2 tháng tuổi"),
            dose(2, 3, "month", "ít nhất 1 tháng sau lần 1"),
            dose(3, 4, "month", "ít nhất 1 tháng sau lần 2"),
        ],
        {"schedule_source": TT38},
    ),
    (
        "TCMR-IPV",
        "Vắc xin bại liệt tiêm (IPV)",
        "Inactivated polio vaccine",
        ["poliomyelitis"],
        [dose(1, 5, "month", "khi trẻ đủ 5 tháng tuổi")],
        {
            "schedule_source": "QĐ 2144/QĐ-BYT (04/6/2016); TT 38/2017/TT-BYT",
            "schedule_unverified": [dose(2, 9, "month", "mũi 2 khi trẻ đủ 9 tháng tuổi: not found in a source read")],
        },
    ),
    (
        "TCMR-SOI",
        "Vắc xin sởi",
        "Measles vaccine",
        ["measles"],
        [dose(1, 9, "month", "khi trẻ đủ 9 tháng tuổi")],
        {"schedule_source": TT38},
    ),
    (
        "TCMR-MR",
        "Vắc xin phối hợp sởi - rubella (MR)",
        "Measles-rubella vaccine",
        ["measles", "rubella"],
        [dose(1, 18, "month", "khi trẻ đủ 18 tháng tuổi")],
        {"schedule_source": TT38},
    ),
    (
        "TCMR-DPT",
        "Vắc xin Bạch hầu - Ho gà - Uốn ván (DPT) tiêm nhắc",
        "DTP booster",
        ["diphtheria", "pertussis", "tetanus"],
        [dose(4, 18, "month", "tiêm nhắc lại khi trẻ đủ 18 tháng tuổi")],
        {"schedule_source": TT10},
    ),
    (
        "TCMR-TD",
        "Vắc xin phối hợp Bạch hầu - Uốn ván giảm liều (Td) cho trẻ 7 tuổi",
        "Td booster (reduced diphtheria) at 7 years",
        ["diphtheria", "tetanus"],
        [dose(5, 7, "year", "tiêm nhắc lại khi trẻ đủ 7 tuổi")],
        {"schedule_source": TT10},
    ),
    (
        "TCMR-VNNB",
        "Vắc xin viêm não Nhật Bản B",
        "Japanese encephalitis B vaccine",
        ["Japanese encephalitis"],
        [
            dose(1, 12, "month", "khi trẻ đủ 1 tuổi"),
            dose(2, 12, "month", "1-2 tuần sau lần 1"),
            dose(3, 24, "month", "1 năm sau lần 2"),
        ],
        {"schedule_source": TT38},
    ),
    (
        "TCMR-ROTA",
        "Vắc xin phòng tiêu chảy do vi rút Rota (uống)",
        "Rotavirus vaccine (oral)",
        ["rotavirus"],
        [],
        {
            "schedule_note": "in TT 10/2024's list; the schedule was not read in a source and the programme is "
            "rolled out province by province (from late 2024), so no dose is shown as due or overdue",
            "schedule_unverified": [
                dose(1, 2, "month", "not found in a source read"),
                dose(2, 3, "month", "not found in a source read"),
            ],
        },
    ),
    (
        "TCMR-UV",
        "Vắc xin có chứa thành phần uốn ván cho phụ nữ có thai",
        "Tetanus-containing vaccine for pregnant women",
        ["tetanus"],
        [],
        {"schedule_note": "dose timing depends on pregnancies, not on age: no age schedule"},
    ),
]

# Product names (as facilities write them) of the vaccines used for each national vaccine; matched
# case-, space- and punctuation-insensitively at intake (codelists.vaccines). Names, not codes: the
# makers and which were supplied to the programme are [SECONDARY], see SOURCES.md.
VACCINE_PRODUCTS = {
    "TCMR-BCG": ["BCG", "BCG vaccine", "Vắc xin BCG"],
    "TCMR-VGB-SS": ["Gene-HBvax", "Euvax B", "Engerix-B", "Heberbiovac HB", "HepB", "VGB"],
    "TCMR-DPT-VGB-HIB": ["ComBE Five", "Quinvaxem", "Pentavac", "SII Pentavalent", "Eupenta", "DPT-VGB-Hib"],
    "TCMR-OPV": ["OPV", "bOPV", "tOPV", "Polio Sabin", "Vắc xin bại liệt uống"],
    "TCMR-IPV": ["IPV", "Imovax Polio", "Poliorix"],
    "TCMR-SOI": ["MVVac", "Measles vaccine", "Vắc xin sởi"],
    "TCMR-MR": ["MRVAC", "MR", "SII MR", "SII measles-rubella", "Measles and Rubella Vaccine", "M-M-R II", "Priorix"],
    "TCMR-DPT": ["DPT", "DTP", "DTaP", "Vắc xin DPT"],
    "TCMR-TD": ["Td", "Adsorbed Td", "Vắc xin Td"],
    "TCMR-VNNB": ["Jevax", "JE vaccine"],
    "TCMR-ROTA": ["Rotavin-M1", "Rotavin", "Rotarix", "RotaTeq"],
    "TCMR-UV": ["TT", "VAT", "Uốn ván hấp phụ"],
}


def build_vaccine():
    out = []
    for code, vi, en, antigens, sched, extra in VACCINES:
        p = {
            "code_official": False,
            "antigen": antigens,
            "schedule": sched,
            "schedule_verified": extra.get("schedule_source") == TT10,
            "programme": "TCMR (Tiêm chủng mở rộng)",
            "legal_basis": "Thông tư 10/2024/TT-BYT",
            "products": VACCINE_PRODUCTS[code],
        }
        if p["schedule_verified"]:
            p["schedule_verified_against"] = (
                "summaries of TT 10/2024 (moj.gov.vn, thuvienphapluat.vn), not the signed text"
            )
        p.update(extra)
        out.append(simple(code, vi, en, p))
    return out


# Groups of ICD-10 codes other parts of the portal name (the book's header: chronic conditions,
# recorded allergies), as code prefixes. Project-defined: the first release had them as constants
# in the book's code; no official grouping was found.
ICD10_GROUPS = {
    "chronic": [
        "E10",
        "E11",
        "E12",
        "E13",
        "E14",
        "I10",
        "I11",
        "I12",
        "I13",
        "I15",
        "I20",
        "I25",
        "I50",
        "J44",
        "J45",
        "N18",
        "B18",
        "K74",
        "C",
        "F20",
        "G40",
        "E03",
        "E05",
        "M05",
    ],
    "allergy": ["Z88", "Z91.0", "T78.4", "T88.7", "L23", "J30"],
}


# --------------------------------------------------------------------------------------------
SYSTEMS = [
    dict(
        key="icd10",
        name_vi="Danh mục mã bệnh ICD-10",
        name_en="ICD-10 (Vietnamese edition)",
        legal_basis="QĐ 4469/QĐ-BYT",
        version_label="QĐ 4469/QĐ-BYT (2020)",
        groups=ICD10_GROUPS,
        effective_from="2020-10-26",
        description_vi="Phân loại quốc tế bệnh tật ICD-10 áp dụng trong KBCB và thanh toán BHYT, kèm các phụ lục "
        "A1 (mã kép †/*), A2 (không dùng làm bệnh chính), A3 (giới hạn tuổi), A4 (giới hạn giới tính), E/E1 (nhóm DRG).",
        source_note="Parsed from QD4469-ICD10-phu-luc.xlsx (annex of QĐ 4469/QĐ-BYT). effective_from is the date printed "
        "in the annex header ('ngày 26/10/2020', number left blank); effective date not known; vn-ehb.md "
        "gives 28/10/2020 for the decision — unresolved.",
        build=build_icd10,
        file="icd10.csv",
    ),
    dict(
        key="icd9cm",
        name_vi="Danh mục mã thủ thuật, phẫu thuật ICD-9-CM",
        name_en="ICD-9-CM Volume 3 procedures",
        legal_basis="QĐ 4440/QĐ-BYT",
        version_label="QĐ 4440/QĐ-BYT (2020)",
        effective_from="2020-10-27",
        description_vi="Mã ICD-9-CM (MA_PTTT_QT) tương ứng với danh mục kỹ thuật tương đương, nhóm theo chương ICD-9-CM.",
        source_note="Parsed from ICD9CM-QD4440.xlsx (sheet dmicd9). effective_from = decision date 27/10/2020 as given in "
        "vn-ehb.md §5 (not printed in the workbook); effective date unknown. Row-level DVKT mapping in "
        "icd9cm-dvkt-map.csv.",
        build=build_icd9,
        file="icd9cm.csv",
    ),
    dict(
        key="beneficiary-group",
        name_vi="Mã đối tượng tham gia BHYT",
        name_en="BHYT beneficiary group codes",
        legal_basis="QĐ 1351/QĐ-BHXH",
        version_label="QĐ 1351/QĐ-BHXH (2015) — 43 codes",
        effective_from="2015-11-16",
        description_vi="Hai ký tự đầu của mã thẻ BHYT 15 ký tự.",
        source_note="vn-ehb.md §3.2 [SECONDARY]: prefix list enforced by the VNeID integration form (thuphuc.vn); "
        "effective_from = decision date 16/11/2015 (effective date unknown). Most per-code meanings and "
        "the code->benefit-level table are not in the sources.",
        build=build_beneficiary,
        file="beneficiary-group.csv",
    ),
    dict(
        key="benefit-level",
        name_vi="Mức hưởng BHYT",
        name_en="BHYT benefit level",
        legal_basis="QĐ 1351/QĐ-BHXH",
        version_label="QĐ 1351/QĐ-BHXH (2015)",
        effective_from="2015-11-16",
        description_vi="Ký tự thứ 3 của mã thẻ BHYT 15 ký tự (1-5).",
        source_note="vn-ehb.md §3.2 [SECONDARY] (ehoadon.online, tinhte.vn); effective_from = decision date.",
        build=build_benefit_level,
        file="benefit-level.csv",
    ),
    dict(
        key="visit-type",
        name_vi="Mã hình thức KBCB (MA_LOAI_KCB)",
        name_en="Visit type (MA_LOAI_KCB)",
        legal_basis="QĐ 824/QĐ-BYT",
        version_label="QĐ 824/QĐ-BYT (2023), labels per QĐ 4750/QĐ-BYT",
        effective_from="2023-02-15",
        description_vi="Hình thức khám bệnh, chữa bệnh dùng trong trường MA_LOAI_KCB của XML 130.",
        source_note="Labels from the QĐ 4750 annex (Bảng 1 NGAY_RA / SO_NGAY_DTRI notes, Bảng 8) and the QĐ 3176 draft "
        "(Bảng 8 additions for 05, 06, 08, 09) in /work/shared/data/xml130; list issued by QĐ 824/QĐ-BYT "
        "Phụ lục 1 (15/02/2023, decision date; text not read).",
        build=build_visit_type,
        file="visit-type.csv",
    ),
    dict(
        key="treatment-result",
        name_vi="Mã kết quả điều trị (KET_QUA_DTRI)",
        name_en="Treatment result",
        legal_basis="QĐ 130/QĐ-BYT; QĐ 4750/QĐ-BYT",
        version_label="QĐ 4750/QĐ-BYT",
        effective_from="2023-12-29",
        description_vi="Kết quả điều trị trong Bảng 1 và Bảng 8 của XML 130.",
        source_note="QD4750-phu-luc.xlsx Bảng 1 KET_QUA_DTRI (codes 1-7 from QĐ 130; code 8 added by QĐ 4750). "
        "effective_from = QĐ 4750 decision date (effective date not known).",
        build=build_treatment_result,
        file="treatment-result.csv",
    ),
    dict(
        key="discharge-type",
        name_vi="Mã loại ra viện (MA_LOAI_RV)",
        name_en="Discharge type",
        legal_basis="QĐ 130/QĐ-BYT",
        version_label="QĐ 130/QĐ-BYT (unchanged by QĐ 4750)",
        effective_from="2023-01-18",
        description_vi="Loại ra viện trong Bảng 1 của XML 130; mã 2 và 5 yêu cầu Bảng 13 (giấy chuyển tuyến).",
        source_note="QD4750-phu-luc.xlsx Bảng 1 MA_LOAI_RV; QĐ 3176 draft wording kept as a property. "
        "effective_from = QĐ 130 decision date.",
        build=build_discharge_type,
        file="discharge-type.csv",
    ),
    dict(
        key="sex",
        name_vi="Giới tính (GIOI_TINH)",
        name_en="Sex",
        legal_basis="QĐ 130/QĐ-BYT",
        version_label="QĐ 130/QĐ-BYT",
        effective_from="2023-01-18",
        description_vi="Mã giới tính trong XML 130 (1 Nam, 2 Nữ, 3 Chưa xác định).",
        source_note="QD4750-phu-luc.xlsx Bảng 1 GIOI_TINH; effective_from = QĐ 130 decision date.",
        build=build_sex,
        file="sex.csv",
    ),
    dict(
        key="ethnicity",
        name_vi="Danh mục các dân tộc Việt Nam",
        name_en="Ethnic groups of Viet Nam",
        legal_basis="QĐ 121-TCTK/PPCĐ",
        version_label="QĐ 121-TCTK/PPCĐ (1979) — 54 groups",
        effective_from="1979-03-02",
        description_vi="Mã dân tộc 2 chữ số (MA_DANTOC).",
        source_note="Codes 01-04 from vn-ehb.md §5; 05-54 order from several independent public code files "
        "(secondary, marked code_official=false). effective_from = decision date 02/3/1979.",
        build=build_ethnicity,
        file="ethnicity.csv",
    ),
    dict(
        key="lab-indicator",
        name_vi="Chỉ số xét nghiệm thường dùng (chưa có mã chính thức)",
        name_en="Common lab indicators (no official codes)",
        legal_basis="QĐ 7603/QĐ-BYT Phụ lục 11 (chưa công bố mã); quy tắc đặt mã tạm thời của QĐ 3176/QĐ-BYT",
        version_label="seed-1 (project-defined, unofficial; LOINC map)",
        effective_from="2018-12-26",
        description_vi="Chỉ số hóa sinh và huyết học thường dùng; mã tạm theo quy tắc QĐ 3176 (tên không dấu viết liền).",
        source_note="Official Phụ lục 11 / QĐ 1227 codes not found. Codes follow the QĐ 3176 interim rule; units and "
        "reference intervals are typical adult values from public Vietnamese lab pages (unverified). "
        "effective_from = the day after the QĐ 7603 decision date (seed-0 took that date; a new version must start "
        "later), for reference only. LOINC mapping rows: lab-indicator-loinc-map.csv (project-made, see SOURCES.md).",
        build=build_lab,
        file="lab-indicator.csv",
        mappings="lab-indicator-loinc-map.csv",
    ),
    dict(
        key="vaccine",
        name_vi="Vắc xin trong Chương trình tiêm chủng mở rộng (mã của dự án)",
        name_en="Expanded immunisation programme vaccines (project codes)",
        legal_basis="Thông tư 10/2024/TT-BYT (13/6/2024) — danh mục bệnh truyền nhiễm, đối tượng và phạm vi phải sử "
        "dụng vắc xin, sinh phẩm y tế bắt buộc",
        version_label="TT 10/2024/TT-BYT (project codes, rev 1)",
        effective_from="2025-01-02",
        description_vi="Vắc xin theo Thông tư 10/2024/TT-BYT, kháng nguyên, lịch tiêm và tên sản phẩm thường gặp.",
        source_note="Vaccines and schedule: Thông tư 10/2024/TT-BYT as summarised by the Ministry of Justice news page "
        "(moj.gov.vn, 17/06/2024) and THƯ VIỆN PHÁP LUẬT (15/06/2024); schedules not in those summaries from TT "
        "38/2017/TT-BYT (tiemchungmorong.vn) and QĐ 2144/QĐ-BYT (IPV). The signed text was not read. Codes are "
        "project-defined (TCMR-*), unchanged from seed-0. effective_from 2025-01-02 is a placeholder after seed-0 "
        "(the Thông tư is in force from 01/8/2024). CVX mapping rows: vaccine-cvx-map.csv. See SOURCES.md.",
        build=build_vaccine,
        file="vaccine.csv",
        mappings="vaccine-cvx-map.csv",
    ),
    dict(
        key="province",
        name_vi="Danh mục tỉnh, thành phố (34 đơn vị)",
        name_en="Provinces and cities (34 units)",
        legal_basis="QĐ 19/2025/QĐ-TTg; NQ 202/2025/QH15",
        version_label="QĐ 19/2025/QĐ-TTg",
        effective_from="2025-07-01",
        description_vi="34 đơn vị hành chính cấp tỉnh từ 01/7/2025, kèm mã tỉnh cũ được sáp nhập.",
        source_note="provinces.csv (vn-ehb.md §4; SECONDARY, two sources agree). effective_from = effective date of "
        "NQ 202/2025/QH15 (1/7/2025). Population figures approximate (sum ≈113.6 M).",
        build=build_province,
        file="province.csv",
    ),
]

# Lists with no seed file: load_codelists builds their rows from the geography tables
# or side files (codelists.loading.GENERATED); their systems.json entries are written as they are.
GENERATED_SYSTEMS = [
    {
        "key": "commune",
        "name_vi": "Danh mục đơn vị hành chính cấp xã (3.321 đơn vị)",
        "name_en": "Communes, wards and special zones (3,321 units)",
        "canonical_url": "https://terminology.sskdt.example.vn/CodeSystem/commune",
        "legal_basis": "QĐ 19/2025/QĐ-TTg; NQ 202/2025/QH15; Luật 72/2025/QH15",
        "description_vi": "3.321 đơn vị hành chính cấp xã (2.621 xã, 687 phường, 13 đặc khu) từ 01/7/2025, kèm loại và mã tỉnh.",
        "version_label": "QĐ 19/2025/QĐ-TTg (vietnam-provinces 2025.10.1)",
        "effective_from": "2025-07-01",
        "source_note": "Built by load_codelists from the geography tables (the communes table, loaded from the vietnam-provinces package 2025.10.1, data version 2025-10-18; see geo/data/SOURCE.md). Never edited by hand.",
        "from": "geo.communes",
        "max_code_length": 5,
    },
    # Issue 17: the technical services named in the QĐ 4440 sheet, built from icd9cm-dvkt-map.csv,
    # with that file's DVKT -> ICD-9-CM pairs as mappings (served as ConceptMap/dvkt-icd9cm).
    {
        "key": "dvkt",
        "name_vi": "Danh mục kỹ thuật tương đương (mã tương đương DVKT) có mã ICD-9-CM",
        "name_en": "Equivalent technical services (DVKT) with an ICD-9-CM code",
        "canonical_url": "https://terminology.sskdt.example.vn/CodeSystem/dvkt",
        "legal_basis": "QĐ 4440/QĐ-BYT",
        "description_vi": "Các mã tương đương dịch vụ kỹ thuật (MA_DICH_VU) có trong bảng đối chiếu DVKT ↔ ICD-9-CM của QĐ 4440/QĐ-BYT; mỗi mã ánh xạ tới mã ICD-9-CM (MA_PTTT_QT) tương ứng.",
        "version_label": "QĐ 4440/QĐ-BYT (2020)",
        "effective_from": "2020-10-27",
        "source_note": "Built by load_codelists from icd9cm-dvkt-map.csv (every row of sheet dmicd9 of ICD9CM-QD4440.xlsx; 8,035 rows, 8,033 distinct codes, 8,034 pairs). Only the services that sheet names: not the full national technical-service list. Mappings: relationship source-is-narrower-than-target (an ICD-9-CM code groups many services).",
        "from": "dvkt-map",
        "max_code_length": 12,
        "mappings": {
            "file": "icd9cm-dvkt-map.csv",
            "source_column": "ma_tuong_duong",
            "target_column": "icd9cm_code",
            "display_column": "ten_icd9cm",
            "target_url": "https://terminology.sskdt.example.vn/CodeSystem/icd9cm",
            "relationship": "source-is-narrower-than-target",
            "concept_map": "dvkt-icd9cm",
        },
    },
]


def main():
    report = {}
    out = []
    for sysdef in SYSTEMS:
        rows = sysdef["build"](report) if sysdef["key"] in ("icd10", "icd9cm") else sysdef["build"]()
        n = write_csv(sysdef["file"], rows)
        report[f"rows:{sysdef['file']}"] = n
        meta = {k: v for k, v in sysdef.items() if k != "build"}
        meta["canonical_url"] = BASE_URL + sysdef["key"]
        meta["max_code_length"] = max(len(r["code"]) for r in rows)
        order = [
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
            "groups",
            "mappings",
        ]
        out.append({k: meta[k] for k in order if k in meta})
    out.extend(GENERATED_SYSTEMS)
    with open(os.path.join(HERE, "systems.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
        f.write("\n")
    with open(os.path.join(HERE, "build_report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=2, default=str)
        f.write("\n")
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1, default=str)
    print()


if __name__ == "__main__":
    main()
