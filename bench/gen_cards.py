#!/usr/bin/env python
"""Generate realistic BHYT card batch files (CSV or XLSX) for import tests.

    python bench/gen_cards.py --rows 1000000 --seed 7 --bad-share 0.05 \\
        --out var/cards-7.csv --emit-expected var/cards-7.expected.json

Columns (XML 130-style names, shared/domain/vn-ehb.md §2.4 and the BHXH
validation workbook): MA_THE_BHYT, MA_SO_BHXH, SO_CCCD, HO_TEN,
NGAY_SINH (yyyyMMdd), GIOI_TINH (1 male, 2 female, 3 undetermined --
workbook "Bang 1", VERIFIED), MA_DKBD, GT_THE_TU, GT_THE_DEN (yyyyMMdd),
MATINH_CU_TRU (new 2-digit province code of residence), DIA_CHI.
MA_DOITUONG_KCB is *not* written: the docs define it as the visit-object
code of an encounter (QĐ 824), not a card attribute; the card's beneficiary
group is the first two letters of MA_THE_BHYT.

What is synthetic (no legal source): the group -> benefit-level mapping,
group choice by age, facility code suffixes, addresses, the family-name
frequencies (approximate public figures).  Identifier *structure* follows
healthbook/identifiers/ (see its docstring for sources and [UNVERIFIED]
points).

Properties:

* Deterministic: the same arguments give byte-identical output.  Each row
  is a pure function of (seed, row index), so ``--existing-seed`` can
  re-create rows of an earlier file without reading it.
* Streaming, constant memory (CSV via ``csv.writer``; XLSX via openpyxl
  write-only mode; the expected JSON is streamed too).
* Unique people: within a file and across files whose seeds differ modulo
  100, personal IDs and social insurance numbers never repeat (they are
  Feistel-network bijections of (seed % 100, index), so they look random
  but cannot collide; rows < 10^8).  So a valid file has no
  duplicate persons and "accepted" = rows - rejected.
* ``--bad-share F``: that fraction of rows (drawn per row) gets exactly one
  labelled defect; ``--emit-expected`` lists for each such row the line
  number (header = line 1), the defect kind and the exact
  ``[(column, code)]`` that ``healthbook.identifiers.check_card_row`` reports
  with ``ReferenceSets.defaults()`` and ``today = --as-of``.
* ``--existing-share F --existing-seed S2 [--existing-rows M]``: that
  fraction of rows re-uses people from the file that ``--seed S2 --rows M``
  produces (its *valid* version of row j: generate that file without
  ``--bad-share`` for exact re-import counts); each source row is used at
  most once.  ``--existing-change-share F2`` renews the card (validity
  +1 year) on that fraction of them -- for R4 ("10 % rows changed").
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import sys
import tempfile
import time
from bisect import bisect_right
from datetime import date, timedelta

# --------------------------------------------------------------------------
# Reference data (copied from shared/domain/provinces.csv and vn-ehb.md §3.2;
# kept here so that the generator runs without Django or the shared folder)
# --------------------------------------------------------------------------

#: (new code, name, old codes merged in) -- provinces.csv (QĐ 19/2025).
PROVINCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("01", "Thành phố Hà Nội", ("01",)),
    ("04", "Tỉnh Cao Bằng", ("04",)),
    ("08", "Tỉnh Tuyên Quang", ("08", "02")),
    ("11", "Tỉnh Điện Biên", ("11",)),
    ("12", "Tỉnh Lai Châu", ("12",)),
    ("14", "Tỉnh Sơn La", ("14",)),
    ("15", "Tỉnh Lào Cai", ("15", "10")),
    ("19", "Tỉnh Thái Nguyên", ("19", "06")),
    ("20", "Tỉnh Lạng Sơn", ("20",)),
    ("22", "Tỉnh Quảng Ninh", ("22",)),
    ("24", "Tỉnh Bắc Ninh", ("24", "27")),
    ("25", "Tỉnh Phú Thọ", ("25", "26", "17")),
    ("31", "Thành phố Hải Phòng", ("31", "30")),
    ("33", "Tỉnh Hưng Yên", ("33", "34")),
    ("37", "Tỉnh Ninh Bình", ("37", "35", "36")),
    ("38", "Tỉnh Thanh Hóa", ("38",)),
    ("40", "Tỉnh Nghệ An", ("40",)),
    ("42", "Tỉnh Hà Tĩnh", ("42",)),
    ("44", "Tỉnh Quảng Trị", ("44", "45")),
    ("46", "Thành phố Huế", ("46",)),
    ("48", "Thành phố Đà Nẵng", ("48", "49")),
    ("51", "Tỉnh Quảng Ngãi", ("51", "62")),
    ("52", "Tỉnh Gia Lai", ("52", "64")),
    ("56", "Tỉnh Khánh Hòa", ("56", "58")),
    ("66", "Tỉnh Đắk Lắk", ("66", "54")),
    ("68", "Tỉnh Lâm Đồng", ("68", "67", "60")),
    ("75", "Tỉnh Đồng Nai", ("75", "70")),
    ("79", "Thành phố Hồ Chí Minh", ("79", "74", "77")),
    ("80", "Tỉnh Tây Ninh", ("80", "72")),
    ("82", "Tỉnh Đồng Tháp", ("82", "87")),
    ("86", "Tỉnh Vĩnh Long", ("86", "83", "84")),
    ("91", "Tỉnh An Giang", ("91", "89")),
    ("92", "Thành phố Cần Thơ", ("92", "94", "93")),
    ("96", "Tỉnh Cà Mau", ("96", "95")),
)
OLD_TO_NEW: dict[str, int] = {old: k for k, p in enumerate(PROVINCES) for old in p[2]}
OLD_CODES: tuple[str, ...] = tuple(sorted(OLD_TO_NEW))  # 63 codes
NEW_CODES: frozenset[str] = frozenset(p[0] for p in PROVINCES)
assert len(OLD_CODES) == 63

#: 43 group codes, vn-ehb.md §3.2 (VNeID form) [SECONDARY].
GROUP_CODES = frozenset(
    "DN HX CH NN TK HC XK HT TB NO CT XB TN CS QN CA CY XN MS CC CK CB KC HD "
    "TE BT HN DT DK XD TS TC TQ TA TY HG LS PV CN HS SV GB GD".split()
)

COLUMNS = (
    "MA_THE_BHYT",
    "MA_SO_BHXH",
    "SO_CCCD",
    "HO_TEN",
    "NGAY_SINH",
    "GIOI_TINH",
    "MA_DKBD",
    "GT_THE_TU",
    "GT_THE_DEN",
    "MATINH_CU_TRU",
    "DIA_CHI",
)

# Names.  Family-name shares are approximate public figures (Nguyễn ~38 %,
# Trần ~11 %, Lê ~9.5 %, ...); the tail is spread over common names.
FAMILY = (
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 71),
    ("Hoàng", 30),
    ("Huỳnh", 21),
    ("Phan", 45),
    ("Vũ", 20),
    ("Võ", 19),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 8),
    ("Trương", 8),
    ("Lâm", 5),
    ("Mai", 5),
    ("Cao", 5),
    ("Tạ", 3),
    ("Lương", 5),
    ("Hà", 6),
    ("Trịnh", 6),
    ("Đoàn", 6),
    ("Kiều", 2),
    ("Tô", 3),
    ("Châu", 3),
    ("Quách", 2),
    ("Lại", 2),
    ("Thái", 3),
    ("Đàm", 2),
    ("Chu", 3),
    ("Lục", 1),
)
MIDDLE_M = (
    "Văn",
    "Văn",
    "Văn",
    "Đức",
    "Minh",
    "Quang",
    "Hữu",
    "Công",
    "Thành",
    "Xuân",
    "Ngọc",
    "Hoàng",
    "Gia",
    "Trọng",
    "Tiến",
    "Anh",
    "Duy",
    "Mạnh",
)
MIDDLE_F = (
    "Thị",
    "Thị",
    "Thị",
    "Thị",
    "Ngọc",
    "Thu",
    "Thanh",
    "Minh",
    "Phương",
    "Hồng",
    "Kim",
    "Bảo",
    "Diệu",
    "Mỹ",
    "Khánh",
    "Quỳnh",
    "Hải",
)
GIVEN_M = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hùng",
    "Huy",
    "Khang",
    "Khoa",
    "Long",
    "Minh",
    "Nam",
    "Phong",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thắng",
    "Thành",
    "Toàn",
    "Trung",
    "Tuấn",
    "Việt",
    "Vinh",
    "Hiếu",
    "Đông",
    "Lộc",
    "Nghĩa",
    "Kiên",
    "Hưng",
    "Khải",
    "Lâm",
    "Quý",
    "Thịnh",
    "Tùng",
    "Vũ",
    "Bảo",
    "Đức",
    "Hoàng",
)
GIVEN_F = (
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hằng",
    "Hạnh",
    "Hoa",
    "Hương",
    "Huyền",
    "Lan",
    "Linh",
    "Mai",
    "My",
    "Nga",
    "Ngân",
    "Nhung",
    "Oanh",
    "Phương",
    "Quỳnh",
    "Thảo",
    "Trang",
    "Tuyết",
    "Vân",
    "Yến",
    "Thủy",
    "Hiền",
    "Loan",
    "Ngọc",
    "Nhi",
    "Trâm",
    "Uyên",
    "Xuân",
    "Diệp",
    "Hồng",
    "Lụa",
    "Thơm",
    "Liên",
    "Thư",
    "Vy",
)
STREETS = (
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Quang Trung",
    "Lý Thường Kiệt",
    "Phan Chu Trinh",
    "Hùng Vương",
    "Điện Biên Phủ",
    "Lê Duẩn",
    "Nguyễn Huệ",
    "Bà Triệu",
    "Ngô Quyền",
    "Trần Phú",
    "Võ Thị Sáu",
)
WARDS = (
    "phường Bến Thành",
    "phường Hoàn Kiếm",
    "xã Tân Phú",
    "xã Hòa Bình",
    "phường Tân Định",
    "xã Phú Lộc",
    "phường An Khánh",
    "xã Thạnh Mỹ",
    "phường Hải Châu",
    "xã Đông Hưng",
    "xã Yên Thế",
    "phường Ninh Kiều",
    "xã Mường Thanh",
    "phường Vĩnh Yên",
)


def _cum(weights):
    out, t = [], 0
    for w in weights:
        t += w
        out.append(t)
    return out


_FAMILY_NAMES = tuple(n for n, _ in FAMILY)
_FAMILY_CUM = _cum(w for _, w in FAMILY)
_FAMILY_TOTAL = _FAMILY_CUM[-1]
MIDDLE_F2 = ("Thu", "Thanh", "Minh", "Phương", "Hồng", "Kim", "Bảo", "Diệu", "Mỹ", "Khánh")
_ONE_DAY = timedelta(days=1)

# Group choice by age band (synthetic).
_GROUPS_BY_AGE = (
    (5, (("TE", 1),)),
    (17, (("HS", 70), ("GD", 20), ("HN", 6), ("DT", 4))),
    (22, (("SV", 55), ("GD", 20), ("DN", 20), ("HN", 5))),
    (
        59,
        (
            ("DN", 45),
            ("GD", 20),
            ("HC", 7),
            ("CH", 5),
            ("HN", 4),
            ("CN", 4),
            ("DT", 4),
            ("QN", 2),
            ("CA", 2),
            ("NN", 1),
            ("TN", 1),
            ("XK", 1),
            ("DK", 2),
            ("CY", 1),
            ("TK", 1),
        ),
    ),
    (
        200,
        (
            ("HT", 45),
            ("GD", 25),
            ("BT", 10),
            ("HN", 5),
            ("CC", 3),
            ("CK", 3),
            ("CB", 3),
            ("XB", 2),
            ("KC", 2),
            ("TS", 2),
        ),
    ),
)
_GROUPS_BY_AGE = tuple((hi, tuple(g for g, _ in gw), _cum(w for _, w in gw)) for hi, gw in _GROUPS_BY_AGE)
# Benefit level by group (synthetic; QĐ 1351 mapping not found).
_LEVEL = {
    "QN": "5",
    "CA": "5",
    "CY": "5",
    "TE": "1",
    "CC": "1",
    "CK": "1",
    "HT": "2",
    "HN": "2",
    "BT": "2",
    "DT": "2",
    "DK": "2",
    "XB": "2",
    "KC": "2",
    "TS": "2",
    "CB": "2",
    "CN": "3",
}
_NO_END_DATE_GROUPS = frozenset({"QN", "CA", "CY"})  # GT_THE_DEN may be blank (workbook)

# --------------------------------------------------------------------------
# Deterministic per-row randomness and injective identifiers
# --------------------------------------------------------------------------

_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64 finaliser."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


MAX_ROWS = 10**8  # per seed
SEED_SLOTS = 100  # seeds that differ mod 100 never share a person
# PID space: province (63) x sex (2) x YY (100) x serial (10^6) = 1.26e10.
_PID_SPLIT = (126_000, 10**5)
_SIN_SPLIT = (10**5, 10**5)
_ROUNDS = (0x1D, 0x2E, 0x3F, 0x40)  # round keys (even number of rounds)


def _feistel(x: int, split: tuple[int, int], key: int) -> int:
    """Bijection of range(m1 * m2) (unbalanced Feistel network; each round
    (L, R) -> (R, (L + F(R)) mod |L|) is invertible, so the whole is)."""
    m1, m2 = split
    left, right = divmod(x, m2)
    for k in _ROUNDS:
        left, right = right, (left + ((right ^ (key + k)) * 0x9E3779B97F4A7C15 >> 23)) % m1
        m1, m2 = m2, m1
    return left * m2 + right


def _feistel_inverse(y: int, split: tuple[int, int], key: int) -> int:
    m1, m2 = split  # even number of rounds: same split at both ends
    left, right = divmod(y, m2)
    for k in reversed(_ROUNDS):
        m1, m2 = m2, m1
        left, right = (right - ((left ^ (key + k)) * 0x9E3779B97F4A7C15 >> 23)) % m1, left
    return left * m2 + right


_PID_KEY = 0x9E1D
_SIN_KEY = 0x51A
# SIN 0000000000 is not allowed (BHXH rule): its only pre-image is remapped to
# the image of g = 10^10 - 1 (seed slot 99, index 99,999,999; never generated).
_SIN_ZERO_PREIMAGE = _feistel_inverse(0, _SIN_SPLIT, _SIN_KEY)
_SIN_SPARE = _feistel(10**10 - 1, _SIN_SPLIT, _SIN_KEY)


def global_index(seed: int, index: int) -> int:
    if not 0 <= index < MAX_ROWS:
        raise ValueError("row index out of range")
    return (seed % SEED_SLOTS) * MAX_ROWS + index


def pid_parts(seed: int, index: int) -> tuple[str, int, int, int]:
    """(old province code, sex 1/2, YY, serial) -- injective in (seed % 100, index)."""
    p = _feistel(global_index(seed, index), _PID_SPLIT, _PID_KEY)
    serial = p % 10**6
    p //= 10**6
    yy = p % 100
    p //= 100
    sex = 1 + p % 2
    return OLD_CODES[p // 2], sex, yy, serial


def sin_for(seed: int, index: int) -> str:
    g = global_index(seed, index)
    v = _SIN_SPARE if g == _SIN_ZERO_PREIMAGE else _feistel(g, _SIN_SPLIT, _SIN_KEY)
    return f"{v:010d}"


def century_sex_digit(year: int, sex: int) -> str:
    """G digit per the [UNVERIFIED] table in identifiers.CENTURY_SEX_TABLE."""
    return str((year // 100 - 19) * 2 + (sex - 1))


def make_pid(old_code: str, year: int, sex: int, serial: int) -> str:
    return f"0{old_code}{century_sex_digit(year, sex)}{year % 100:02d}{serial:06d}"


def _ymd(d: date) -> str:
    return d.isoformat().replace("-", "")


def _add_years(d: date, n: int) -> date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + n, day=28)


_ROW_SALT = 0x5EED_CA4D
_rng = random.Random()
_JAN1: dict[int, int] = {}


def _jan1(year: int) -> int:
    o = _JAN1.get(year)
    if o is None:
        o = _JAN1[year] = date(year, 1, 1).toordinal()
    return o


def good_row(seed: int, index: int, as_of: date) -> tuple[dict[str, str], dict]:
    """The valid row ``index`` of the file made with ``seed``, and metadata
    (pid, sex, birth date, ...) used to plant defects."""
    rng = _rng
    rng.seed(_mix(_mix(seed ^ _ROW_SALT) ^ index))
    r = rng.random
    old_code, sex, yy, serial = pid_parts(seed, index)
    year = 2000 + yy
    if year > as_of.year or r() < 0.03:
        year = 1900 + yy
    jan1 = _jan1(year)
    if year == as_of.year:
        birth = date.fromordinal(jan1 + int(r() * (as_of.toordinal() - jan1 + 1)))
    else:
        birth = date.fromordinal(jan1 + int(r() * 365))
    age = as_of.year - year - ((as_of.month, as_of.day) < (birth.month, birth.day))

    family = _FAMILY_NAMES[bisect_right(_FAMILY_CUM, r() * _FAMILY_TOTAL)]
    if sex == 1:
        middle = MIDDLE_M[int(r() * len(MIDDLE_M))]
        given = GIVEN_M[int(r() * len(GIVEN_M))]
    else:
        middle = MIDDLE_F[int(r() * len(MIDDLE_F))]
        given = GIVEN_F[int(r() * len(GIVEN_F))]
        if r() < 0.15:
            given = MIDDLE_F2[int(r() * len(MIDDLE_F2))] + " " + given
    if given == middle:
        given = (GIVEN_M if sex == 1 else GIVEN_F)[0]
    name = family + " " + middle + " " + given

    birth_prov = OLD_TO_NEW[old_code]
    res_prov = birth_prov if r() < 0.85 else int(r() * len(PROVINCES))
    res_code, res_name, res_old = PROVINCES[res_prov]
    card_prov = old_code if res_prov == birth_prov else res_old[int(r() * len(res_old))]

    for hi, groups, cum in _GROUPS_BY_AGE:
        if age <= hi:
            group = groups[bisect_right(cum, r() * cum[-1])]
            break
    level = _LEVEL.get(group, "4")
    sin = sin_for(seed, index)
    card = group + level + card_prov + sin
    facility = f"{card_prov}{1 + int(r() * 199):03d}"

    if group == "TE":
        valid_from = birth
        valid_to = _add_years(birth, 6) - _ONE_DAY
    elif r() < 0.5:
        valid_from = date(as_of.year, 1, 1)
        valid_to = date(as_of.year, 12, 31)
    else:
        valid_from = date.fromordinal(as_of.toordinal() - 1 - int(r() * 329))
        valid_to = _add_years(valid_from, 1) - _ONE_DAY
    to_text = _ymd(valid_to)
    if group in _NO_END_DATE_GROUPS and r() < 0.5:
        to_text = ""

    pid = make_pid(old_code, year, sex, serial)
    x = r()
    if x < 0.02:
        doc = ""  # no ID document recorded
    elif x < 0.03 and age >= 40:
        doc = str(10**8 + int(r() * 9 * 10**8))  # legacy 9-digit CMND
    else:
        doc = pid
    sex_text = "3" if r() < 0.002 else str(sex)

    address = f"Số {1 + int(r() * 399)} {STREETS[int(r() * len(STREETS))]}, {WARDS[int(r() * len(WARDS))]}, {res_name}"
    row = {
        "MA_THE_BHYT": card,
        "MA_SO_BHXH": sin,
        "SO_CCCD": doc,
        "HO_TEN": name,
        "NGAY_SINH": _ymd(birth),
        "GIOI_TINH": sex_text,
        "MA_DKBD": facility,
        "GT_THE_TU": _ymd(valid_from),
        "GT_THE_DEN": to_text,
        "MATINH_CU_TRU": res_code,
        "DIA_CHI": address,
    }
    meta = {
        "pid": pid,
        "old_code": old_code,
        "sex": sex,
        "birth": birth,
        "serial": serial,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }
    return row, meta


# --------------------------------------------------------------------------
# Defects
# --------------------------------------------------------------------------

#: PPP values that are neither an old province code nor an ISO 3166-1
#: numeric country code (so they stay wrong whatever country scheme is chosen).
BAD_PPP = ("000", "003", "005", "007", "009", "013", "097", "099")

DEFECT_KINDS = (
    "pid_length",
    "pid_province",
    "pid_century_sex",
    "pid_birth_year",
    "sin_format",
    "card_format",
    "card_group",
    "card_level",
    "card_province",
    "card_sin_mismatch",
    "missing_card",
    "dates_reversed",
    "birth_future",
    "date_format",
    "date_invalid",
    "missing_name",
    "facility_format",
    "sex_code",
)


def apply_defect(row: dict, meta: dict, kind: str, rng: random.Random, as_of: date) -> list[tuple[str, str]]:
    """Break ``row`` in place in the way ``kind`` names; return the expected
    ``[(column, reason code)]``."""
    pid = meta["pid"]
    if kind.startswith("pid_"):
        row["SO_CCCD"] = pid
        row["GIOI_TINH"] = str(meta["sex"])
    if kind == "pid_length":
        row["SO_CCCD"] = pid[:-1] if rng.random() < 0.5 else pid + str(rng.randrange(10))
        return [("SO_CCCD", "PID_LENGTH")]
    if kind == "pid_province":
        row["SO_CCCD"] = rng.choice(BAD_PPP) + pid[3:]
        return [("SO_CCCD", "PID_PROVINCE")]
    if kind == "pid_century_sex":
        if rng.random() < 0.5:
            row["GIOI_TINH"] = "2" if meta["sex"] == 1 else "1"
        else:  # same sex, other century
            g = int(pid[3])
            row["SO_CCCD"] = pid[:3] + str(g + 2 if g < 2 else g - 2) + pid[4:]
        return [("SO_CCCD", "PID_CENTURY_SEX")]
    if kind == "pid_birth_year":
        b = meta["birth"]
        y = b.year + 1 if b.year % 100 == 0 else b.year - 1
        row["NGAY_SINH"] = f"{y:04d}{b.month:02d}{min(b.day, 28):02d}"
        return [("SO_CCCD", "PID_BIRTH_YEAR")]
    if kind == "sin_format":
        sin = row["MA_SO_BHXH"]
        row["MA_SO_BHXH"] = sin[1:] if rng.random() < 0.5 else sin + "0"
        return [("MA_SO_BHXH", "SIN_FORMAT")]
    card = row["MA_THE_BHYT"]
    if kind == "card_format":
        row["MA_THE_BHYT"] = card[:-1] if rng.random() < 0.5 else card[:2] + "-" + card[2:]
        return [("MA_THE_BHYT", "CARD_FORMAT")]
    if kind == "card_group":
        row["MA_THE_BHYT"] = rng.choice(("ZZ", "AA", "QQ", "BH")) + card[2:]
        return [("MA_THE_BHYT", "CARD_GROUP")]
    if kind == "card_level":
        row["MA_THE_BHYT"] = card[:2] + rng.choice("0679") + card[3:]
        return [("MA_THE_BHYT", "CARD_LEVEL")]
    if kind == "card_province":
        row["MA_THE_BHYT"] = card[:3] + rng.choice(("00", "03", "99", "65")) + card[5:]
        return [("MA_THE_BHYT", "CARD_PROVINCE")]
    if kind == "card_sin_mismatch":
        pos = 5 + rng.randrange(10)
        digit = str((int(card[pos]) + 1 + rng.randrange(9)) % 10)
        new = card[:pos] + digit + card[pos + 1 :]
        if new.endswith("0000000000"):
            new = new[:-1] + "1"
        row["MA_THE_BHYT"] = new
        return [("MA_THE_BHYT", "CARD_SIN_MISMATCH")]
    if kind == "missing_card":
        row["MA_THE_BHYT"] = ""
        return [("MA_THE_BHYT", "REQUIRED")]
    if kind == "dates_reversed":
        vf, vt = meta["valid_from"], meta["valid_to"]
        row["GT_THE_TU"], row["GT_THE_DEN"] = _ymd(vt), _ymd(vf)
        return [("GT_THE_DEN", "DATE_RANGE")]
    if kind == "birth_future":
        b = meta["birth"]
        yy = b.year % 100
        y = 2000 + yy if 2000 + yy > as_of.year else 2100 + yy
        row["NGAY_SINH"] = f"{y:04d}{b.month:02d}{min(b.day, 28):02d}"
        row["SO_CCCD"] = pid[:3] + century_sex_digit(y, meta["sex"]) + pid[4:]
        row["GIOI_TINH"] = str(meta["sex"])
        return [("NGAY_SINH", "BIRTH_FUTURE")]
    if kind == "date_format":
        col = rng.choice(("NGAY_SINH", "GT_THE_TU", "GT_THE_DEN"))
        d = meta["birth"] if col == "NGAY_SINH" else meta["valid_from" if col == "GT_THE_TU" else "valid_to"]
        fmt = rng.choice(("%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y", "%d/%m/%y", "%Y%m"))
        row[col] = d.strftime(fmt)
        return [(col, "DATE_FORMAT")]
    if kind == "date_invalid":
        y = meta["valid_from"].year
        row["GT_THE_TU"] = rng.choice(("%04d0230", "%04d1301", "%04d0431", "%04d0001")) % y
        return [("GT_THE_TU", "DATE_INVALID")]
    if kind == "missing_name":
        row["HO_TEN"] = rng.choice(("", "   "))
        return [("HO_TEN", "NAME_MISSING")]
    if kind == "facility_format":
        fac = row["MA_DKBD"]
        row["MA_DKBD"] = rng.choice((fac[:4], fac + "1", fac[:2] + "A" + fac[3:]))
        return [("MA_DKBD", "FACILITY_CODE_FORMAT")]
    if kind == "sex_code":
        row["GIOI_TINH"] = rng.choice(("0", "4", "M", "Nam", "F"))
        return [("GIOI_TINH", "SEX_CODE")]
    raise ValueError(kind)


# --------------------------------------------------------------------------
# Row stream
# --------------------------------------------------------------------------

_DECIDE_SALT = 0xD3C1DE
_DEFECT_SALT = 0xBADBAD


def _affine_perm(n: int, seed: int) -> tuple[int, int]:
    """(a, c) such that k -> (a*k + c) % n is a permutation of range(n)."""
    a = 1 + (_mix(seed ^ 0xA11CE) % max(n, 1))
    while math.gcd(a, n) != 1:
        a += 1
    return a, _mix(seed ^ 0xC0FFEE) % max(n, 1)


def iter_rows(
    *,
    rows: int,
    seed: int,
    as_of: date,
    bad_share: float = 0.0,
    existing_share: float = 0.0,
    existing_seed: int | None = None,
    existing_rows: int | None = None,
    existing_change_share: float = 0.0,
):
    """Yield ``(index, row, info)``; ``info`` is None for a new valid row,
    ``{"status": "rejected", "kind", "errors"}`` or
    ``{"status": "existing", "source_line", "changed"}``."""
    if rows > MAX_ROWS:
        raise ValueError(f"at most {MAX_ROWS} rows")
    if existing_share:
        if existing_seed is None:
            raise ValueError("--existing-share needs --existing-seed")
        if existing_seed % SEED_SLOTS == seed % SEED_SLOTS:
            raise ValueError(f"--existing-seed must differ from --seed modulo {SEED_SLOTS}")
        existing_rows = existing_rows or rows
        pa, pc = _affine_perm(existing_rows, existing_seed)
    used = 0
    decide_base = _mix(seed ^ _DECIDE_SALT)
    defect_rng = random.Random()
    for i in range(rows):
        u = _mix(decide_base ^ i) / 2.0**64
        if u < bad_share:
            row, meta = good_row(seed, i, as_of)
            defect_rng.seed(_mix(_mix(seed ^ _DEFECT_SALT) ^ i))
            kind = defect_rng.choice(DEFECT_KINDS)
            errors = apply_defect(row, meta, kind, defect_rng, as_of)
            yield i, row, {"status": "rejected", "kind": kind, "errors": errors}
        elif u < bad_share + existing_share and used < existing_rows:
            j = (pa * used + pc) % existing_rows
            used += 1
            row, meta = good_row(existing_seed, j, as_of)
            changed = _mix(decide_base ^ i ^ 0xC4A) / 2.0**64 < existing_change_share
            if changed:
                vf = _add_years(meta["valid_from"], 1)
                vt = _add_years(meta["valid_to"], 1)
                row["GT_THE_TU"] = _ymd(vf)
                if row["GT_THE_DEN"]:
                    row["GT_THE_DEN"] = _ymd(vt)
            yield i, row, {"status": "existing", "source_line": j + 2, "changed": changed}
        else:
            row, _meta = good_row(seed, i, as_of)
            yield i, row, None


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------


class _CsvSink:
    def __init__(self, path: str | None, delimiter: str, bom: bool):
        if path in (None, "-"):
            self.fh = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
            self.own = False
        else:
            self.fh = open(path, "w", encoding="utf-8", newline="")
            self.own = True
        if bom:
            self.fh.write("\ufeff")
        self.w = csv.writer(self.fh, delimiter=delimiter, lineterminator="\r\n")

    def write(self, values):
        self.w.writerow(values)

    def close(self):
        self.fh.flush()
        if self.own:
            self.fh.close()
        else:
            self.fh.detach()


class _XlsxSink:
    def __init__(self, path: str | None):
        if path in (None, "-"):
            raise SystemExit("--format xlsx needs --out FILE")
        from openpyxl import Workbook

        self.path = path
        self.wb = Workbook(write_only=True)
        self.ws = self.wb.create_sheet("the_bhyt")

    def write(self, values):
        self.ws.append(values)  # all str: leading zeros survive

    def close(self):
        self.wb.save(self.path)


def generate(args) -> dict:
    as_of = date.fromisoformat(args.as_of)
    sink = _XlsxSink(args.out) if args.format == "xlsx" else _CsvSink(args.out, args.delimiter, args.bom)
    sink.write(COLUMNS)
    exp = tmp_existing = None
    if args.emit_expected:
        exp = open(args.emit_expected, "w", encoding="utf-8")
        params = {
            k: getattr(args, k)
            for k in (
                "rows",
                "seed",
                "bad_share",
                "format",
                "as_of",
                "existing_share",
                "existing_seed",
                "existing_rows",
                "existing_change_share",
                "delimiter",
                "bom",
            )
        }
        exp.write('{"schema": "gen_cards.expected/1",\n"params": ' + json.dumps(params) + ",\n")
        exp.write(
            '"validator": "healthbook.identifiers.check_card_row(row, refs=ReferenceSets.defaults(), today=as_of)",\n'
        )
        exp.write('"line_numbering": "physical line / sheet row, header = 1",\n')
        exp.write('"columns": ' + json.dumps(COLUMNS) + ',\n"rejected": [')
        tmp_existing = tempfile.TemporaryFile("w+", encoding="utf-8")
    counts = {"rows": 0, "accepted": 0, "rejected": 0, "existing": 0, "existing_changed": 0}
    by_code: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    first_rej = first_ex = True
    t0 = time.perf_counter()
    for i, row, info in iter_rows(
        rows=args.rows,
        seed=args.seed,
        as_of=as_of,
        bad_share=args.bad_share,
        existing_share=args.existing_share,
        existing_seed=args.existing_seed,
        existing_rows=args.existing_rows,
        existing_change_share=args.existing_change_share,
    ):
        sink.write([row[c] for c in COLUMNS])
        counts["rows"] += 1
        if info is None:
            counts["accepted"] += 1
            continue
        line = i + 2
        if info["status"] == "rejected":
            counts["rejected"] += 1
            by_kind[info["kind"]] = by_kind.get(info["kind"], 0) + 1
            for _col, code in info["errors"]:
                by_code[code] = by_code.get(code, 0) + 1
            if exp is not None:
                exp.write(
                    ("\n" if first_rej else ",\n")
                    + json.dumps(
                        {
                            "line": line,
                            "kind": info["kind"],
                            "errors": [{"column": c, "code": k} for c, k in info["errors"]],
                        },
                        ensure_ascii=False,
                    )
                )
                first_rej = False
        else:
            counts["accepted"] += 1
            counts["existing"] += 1
            counts["existing_changed"] += info["changed"]
            if tmp_existing is not None:
                tmp_existing.write(
                    ("\n" if first_ex else ",\n")
                    + json.dumps(
                        {
                            "line": line,
                            "source_seed": args.existing_seed,
                            "source_line": info["source_line"],
                            "changed": info["changed"],
                        }
                    )
                )
                first_ex = False
    sink.close()
    elapsed = time.perf_counter() - t0
    counts["by_code"] = dict(sorted(by_code.items()))
    counts["by_kind"] = dict(sorted(by_kind.items()))
    if exp is not None:
        exp.write('\n],\n"existing": [')
        tmp_existing.seek(0)
        while chunk := tmp_existing.read(1 << 16):
            exp.write(chunk)
        tmp_existing.close()
        exp.write('\n],\n"counts": ' + json.dumps(counts) + "}\n")
        exp.close()
    return {"counts": counts, "seconds": elapsed}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--bad-share", type=float, default=0.0)
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    p.add_argument("--out", default=None, help="output file (CSV: default stdout)")
    p.add_argument(
        "--as-of",
        default="2026-01-01",
        help="reference 'today' for ages, card validity and future births (fixed default keeps output deterministic)",
    )
    p.add_argument("--existing-share", type=float, default=0.0)
    p.add_argument("--existing-seed", type=int, default=None)
    p.add_argument("--existing-rows", type=int, default=None, help="rows of the earlier file (default: --rows)")
    p.add_argument("--existing-change-share", type=float, default=0.0)
    p.add_argument("--delimiter", default=",", help="CSV delimiter (default ',')")
    p.add_argument("--bom", action="store_true", help="write a UTF-8 BOM (Excel)")
    p.add_argument("--emit-expected", default=None, metavar="FILE")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("bad_share", "existing_share", "existing_change_share"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            raise SystemExit(f"--{name.replace('_', '-')} must be between 0 and 1")
    if args.bad_share + args.existing_share > 1.0:
        raise SystemExit("--bad-share + --existing-share must be <= 1")
    if args.existing_rows is None and args.existing_share:
        args.existing_rows = args.rows
    result = generate(args)
    if not args.quiet:
        c = result["counts"]
        secs = result["seconds"]
        rate = c["rows"] / secs if secs else 0.0
        print(
            f"rows={c['rows']} accepted={c['accepted']} rejected={c['rejected']} "
            f"existing={c['existing']} in {secs:.2f}s ({rate:.0f} rows/s)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
