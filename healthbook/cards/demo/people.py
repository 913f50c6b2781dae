"""Generated people and their card rows: reference data, names, identifiers that never
collide, and one valid row per (seed, index). Pure Python (no Django), deterministic."""

from __future__ import annotations

import random
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
