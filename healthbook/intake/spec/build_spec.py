"""Build ``xml130_4750.json`` (the XML 130 field specification) from the official spreadsheets.

Run by hand when a new decision is published, then commit both files::

    python healthbook/intake/spec/build_spec.py [--data DIR] [--out FILE]

``DIR`` defaults to ``<repo>/../shared/data/xml130`` (the clone sits beside ``shared``).
Inputs (read with openpyxl, read-only; provenance in ``shared/data/README.md``):

* ``QD4750-phu-luc.xlsx`` -- QĐ 4750/QĐ-BYT: one sheet per table; field, type and max size
  *as in QĐ 130*, the QĐ 130 explanation, and the 4750 correction ("Đổi kiểu dữ liệu thành
  chuỗi" = now a string, "Tăng kích thước tối đa lên N" = new size, "Bổ sung trường mới" = new
  field).  Fields added by 4750 have no number (NHOM_MAU, NGAY_TH_YL): every row whose second
  cell is an upper-case field name is a field.
* ``QD3176-chuan-du-lieu-dau-ra.xlsx`` -- the 2024 revision (draft): same names, some sizes
  changed.  ``max_size`` is the LARGER of the 4750 and 3176 sizes ("n" = unbounded wins), so a
  file valid under either revision passes; both are kept (``max_size_4750``/``max_size_3176``).
  Reason: 3176 is a draft and shrinks two fields in ways that contradict its own code lists
  (MA_NGHE_NGHIEP 5 -> 2 although occupation codes have 5 digits).
* ``BHXH-validate-QD4750.xlsx`` -- the insurance gateway's notes: "Bắt buộc" = ``x`` gives
  ``required``; any other text there is kept as ``required_condition`` (not enforced);
  the VALID column (and any other note column) is kept verbatim as ``gateway_rule`` and turned
  into a machine ``rule`` only where one of :data:`GATEWAY_PATTERNS` matches it.

Machine rules (``rule``; null when none can be derived):

* ``{"kind": "date", "lengths": [12] | [8] | [8, 12], "partial": bool, "multi": bool}`` from
  the explanation texts ("yyyymmddHHmm", "gồm 12 ký tự ... năm ... phút", "yyyymmdd",
  "gồm 08 ký tự ... năm"); ``partial`` when the text allows 00 for unknown day/month;
  ``multi`` when it says values are separated by ";".
* ``{"kind": "number"}`` for type Số (decimal with "."; digits counted against max_size).
* ``{"kind": "enum", "values": [...]}`` for short Số fields whose explanation lists codes
  ('Mã "1": ...' or '(1: Nam; 2: Nữ)'), plus codes added by the 4750 correction.
* gateway patterns: ``regex``, ``not_all_zero``, ``enum``, ``gte`` (another date field of the
  same record), ``same_as_xml1``.

The inner XML element names per table (root / list / record) are NOT in the spreadsheets; they
come from vn-ehb.md §2.2 (QLBV ``Qd130XmlService``) and agree with two other public vendor
implementations [SECONDARY]; see :data:`STRUCTURE`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "xml130"
DEFAULT_OUT = Path(__file__).resolve().parent / "xml130_4750.json"

FILE_4750 = "QD4750-phu-luc.xlsx"
FILE_3176 = "QD3176-chuan-du-lieu-dau-ra.xlsx"
FILE_BHXH = "BHXH-validate-QD4750.xlsx"

# LOAIHOSO -> (inner root, list element or None, record element).  XML0 is the check-in table.
STRUCTURE: dict[str, tuple[str, str | None, str]] = {
    "XML0": ("CHI_TIEU_TRANG_THAI_KCB", "DSACH_TRANG_THAI_KCB", "TRANG_THAI_KCB"),
    "XML1": ("TONG_HOP", None, "TONG_HOP"),
    "XML2": ("CHITIEU_CHITIET_THUOC", "DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC"),
    "XML3": ("CHITIEU_CHITIET_DVKT_VTYT", "DSACH_CHI_TIET_DVKT", "CHI_TIET_DVKT"),
    "XML4": ("CHITIEU_CHITIET_DICHVUCANLAMSANG", "DSACH_CHI_TIET_CLS", "CHI_TIET_CLS"),
    "XML5": ("CHITIEU_CHITIET_DIENBIENLAMSANG", "DSACH_CHI_TIET_DIEN_BIEN_BENH", "CHI_TIET_DIEN_BIEN_BENH"),
    "XML6": (
        "CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
        "DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
        "HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS",
    ),
    "XML7": ("CHI_TIEU_DU_LIEU_GIAY_RA_VIEN", None, "CHI_TIEU_DU_LIEU_GIAY_RA_VIEN"),
    "XML8": ("CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN", None, "CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN"),
    "XML9": ("CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH", "DSACH_GIAYCHUNGSINH", "DU_LIEU_GIAY_CHUNG_SINH"),
    "XML10": ("CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI", None, "CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI"),
    "XML11": (
        "CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI",
        None,
        "CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI",
    ),
    # XML12 (medical assessment council) is sent by assessment bodies, not facilities; no
    # public vendor code builds it, so its element names are unknown [UNVERIFIED].
    "XML12": ("GIAM_DINH_Y_KHOA", None, "GIAM_DINH_Y_KHOA"),
    "XML13": ("CHI_TIEU_GIAYCHUYENTUYEN", None, "CHI_TIEU_GIAYCHUYENTUYEN"),
    "XML14": ("CHI_TIEU_GIAYHEN_KHAMLAI", None, "CHI_TIEU_GIAYHEN_KHAMLAI"),
    "XML15": ("CHI_TIEU_DIEUTRI_BENHLAO", "DSACH_CHITIET_DIEUTRI_BENHLAO", "CHITIET_DIEUTRI_BENHLAO"),
}

FIELD_RE = re.compile(r"[A-Z][A-Z0-9_]*")
INHERIT_RE = re.compile(r"Sử dụng thông tin tại trường ([A-Z][A-Z0-9_]*) trong Bảng 1")

# Gateway VALID texts -> machine rule.  Ordered; the first match wins.  Texts that say "as in
# QĐ 4210" (the previous standard) or describe a conditional requirement give no rule.
GATEWAY_PATTERNS: list[tuple[re.Pattern, object]] = [
    (
        re.compile(r"9\s*,\s*12 ký tự số hoặc 8 ký tự bắt đầu là chữ in hoa"),
        {"kind": "regex", "pattern": r"^(\d{9}|\d{12}|[A-Z]\d{7})$"},
    ),
    (re.compile(r"ko được để tất cả\s*=\s*0"), {"kind": "not_all_zero"}),
    (re.compile(r"^Null hoặc\s*=\s*1$", re.I), {"kind": "enum", "values": ["1"]}),
    (re.compile(r"Bắt buộc là CT07 hoặc null"), {"kind": "enum", "values": ["CT07"]}),
    (re.compile(r"Ký tự G \+ số từ 1-999"), {"kind": "regex", "pattern": r"^G([1-9][0-9]{0,2})$"}),
    (re.compile(r"^10 ký tự dạng số$"), {"kind": "regex", "pattern": r"^[0-9]{10}$"}),
    (re.compile(r"Nếu có dữ liệu thì phải giống thông tin này ở bảng 1"), {"kind": "same_as_xml1"}),
    (re.compile(r">=\s*([A-Z][A-Z_]+)"), "gte"),
]


def _s(v) -> str:
    return "" if v is None else str(v).strip()


def _table_key(sheet_title: str) -> str | None:
    t = sheet_title.strip().lower()
    if "check-in" in t:
        return "XML0"
    m = re.match(r"bang\s*(\d+)", t)
    return f"XML{int(m.group(1))}" if m else None


def _size(v) -> int | None:
    t = _s(v).lower()
    if t in ("", "n"):
        return None
    return int(t)


def _rows(path: Path):
    """Yield (table, header, row) for each field row of each sheet."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            table = _table_key(ws.title)
            if table is None:
                continue
            header: tuple = ()
            for row in ws.iter_rows(values_only=True):
                if row and _s(row[0]) == "STT":
                    header = tuple(_s(c) for c in row)
                    continue
                if len(row) > 1 and FIELD_RE.fullmatch(_s(row[1])):
                    yield table, header, row
    finally:
        wb.close()


def _apply_4750_correction(typ: str, size: int | None, corr: str) -> tuple[str, int | None]:
    if "thành chuỗi" in corr:
        typ = "Chuỗi"
    m = re.search(r"Tăng kích thước tối đa lên\s*(\d+)", corr)
    if m:
        size = int(m.group(1))
    return typ, size


def _larger(a: int | None, b: int | None) -> int | None:
    if a is None or b is None:
        return None
    return max(a, b)


def _date_rule(texts: list[str], size: int | None) -> dict | None:
    lengths: set[int] = set()
    for text in texts:
        low = text.lower()
        if "yyyymmddhhmm" in low or re.search(r"12 k[ýí] tự.{0,80}năm.{0,120}phút", low, re.S):
            lengths.add(12)
        if re.search(r"yyyymmdd(?!hh)", low) or re.search(r"0?8 k[ýí] tự.{0,40}năm", low, re.S):
            lengths.add(8)
    if not lengths:
        return None
    if size is not None:
        lengths = {n for n in lengths if n <= size} or lengths
    joined = " ".join(texts).lower()
    return {
        "kind": "date",
        "lengths": sorted(lengths),
        "partial": "mặc định là 00" in joined,
        "multi": "dấu chấm phẩy" in joined,
    }


_ENUM_RES = [re.compile(r"[Mm]ã\s*[\"“”']\s*(\d{1,2})\s*[\"“”']"), re.compile(r"(?:\(|;)\s*(\d{1,2})\s*:")]


def _enum_rule(texts: list[str]) -> dict | None:
    values: list[str] = []
    for text in texts:
        for rx in _ENUM_RES:
            for v in rx.findall(text):
                if v not in values:
                    values.append(v)
    if len(values) < 2:
        return None
    return {"kind": "enum", "values": sorted(values, key=int)}


def _gateway_rule(text: str) -> dict | None:
    for rx, rule in GATEWAY_PATTERNS:
        m = rx.search(text)
        if m:
            if rule == "gte":
                return {"kind": "gte", "field": m.group(1)}
            return dict(rule)  # type: ignore[arg-type]
    return None


def build(data_dir: Path) -> dict:
    """Return the spec as a JSON-ready dict."""
    tables: dict[str, dict] = {}
    for table, _header, row in _rows(data_dir / FILE_4750):
        name = _s(row[1])
        typ130, size130 = _s(row[2]), _size(row[3])
        expl, corr = _s(row[4]), _s(row[5]) if len(row) > 5 else ""
        typ, size4750 = _apply_4750_correction(typ130, size130, corr)
        t = tables.setdefault(table, {"fields": []})
        t["fields"].append(
            {
                "name": name,
                "type": "number" if typ == "Số" else "string",
                "max_size": size4750,
                "max_size_130": size130,
                "max_size_4750": size4750,
                "max_size_3176": None,
                "required": False,
                "required_condition": "",
                "description_vi": expl,
                "correction_4750_vi": corr,
                "revision_3176_vi": "",
                "gateway_rule": "",
                "rule": None,
            }
        )
    by_name = {(tb, f["name"]): f for tb, t in tables.items() for f in t["fields"]}

    for table, header, row in _rows(data_dir / FILE_3176):
        f = by_name.get((table, _s(row[1])))
        if f is None:
            continue
        f["max_size_3176"] = _size(row[3])
        f["max_size"] = _larger(f["max_size_4750"], f["max_size_3176"])
        # The last non-empty text column of the 3176 sheet is the 3176 change ("Điều chỉnh",
        # "Nội dung sửa đổi, bổ sung diễn giải").
        idx = next((i for i, h in enumerate(header) if h.startswith(("Điều chỉnh", "Nội dung sửa đổi"))), None)
        if idx is not None and idx < len(row):
            f["revision_3176_vi"] = _s(row[idx])

    for table, header, row in _rows(data_dir / FILE_BHXH):
        f = by_name.get((table, _s(row[1])))
        if f is None:
            continue
        req_i = header.index("Bắt buộc") if "Bắt buộc" in header else 5
        req = _s(row[req_i]) if req_i < len(row) else ""
        if req.lower() == "x":
            f["required"] = True
        elif req:
            f["required_condition"] = req
        # Only the "Bắt buộc" column decides; a lone "x" in another column (MA_XANG_DAU's
        # QĐ824 column, next to "required when MA_NHOM = 12") is not a requirement.
        notes = [_s(c) for i, c in enumerate(row) if i > req_i and _s(c) and _s(c).lower() != "x"]
        f["gateway_rule"] = " | ".join(notes)

    for table, t in tables.items():
        root, lst, record = STRUCTURE[table]
        t.update({"root": root, "list": lst, "record": record})
        for f in t["fields"]:
            texts = [f["description_vi"], f["correction_4750_vi"], f["revision_3176_vi"]]
            rule = _gateway_rule(f["gateway_rule"]) if f["gateway_rule"] else None
            derived = _date_rule(texts, f["max_size"]) if f["type"] == "string" else None
            if derived is None and f["type"] == "number":
                size = f["max_size"]
                derived = (_enum_rule(texts) if size is not None and size <= 2 else None) or {"kind": "number"}
            f["rule"] = derived
            f["gateway"] = rule
    # "Sử dụng thông tin tại trường X trong Bảng 1": the field takes XML1's format rule.
    xml1 = {f["name"]: f for f in tables["XML1"]["fields"]}
    for table, t in tables.items():
        for f in t["fields"]:
            texts = " ".join([f["description_vi"], f["correction_4750_vi"]])
            m = INHERIT_RE.search(texts)
            if table != "XML1" and m and m.group(1) in xml1 and f["rule"] in (None, {"kind": "number"}):
                f["rule"] = xml1[m.group(1)]["rule"]
    ordered = {k: tables[k] for k in sorted(tables, key=lambda k: int(k[3:]))}
    return {
        "source": {
            "qd4750": FILE_4750,
            "qd3176": FILE_3176,
            "bhxh_validate": FILE_BHXH,
            "built_by": "healthbook/intake/spec/build_spec.py",
        },
        "tables": ordered,
    }


def render(spec: dict) -> str:
    return json.dumps(spec, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"spreadsheet folder not found: {args.data}", file=sys.stderr)
        return 2
    args.out.write_text(render(build(args.data)), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
