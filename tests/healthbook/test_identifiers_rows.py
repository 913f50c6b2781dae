"""Identifier rules: problems and messages, whole card rows, generator round trips, held-out fixtures."""

from __future__ import annotations

import ast
import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from healthbook import identifiers as ids
from healthbook.identifiers import (
    CENTURY_SEX_TABLE,
    MESSAGES,
    Problem,
    ReferenceSets,
    card_row_person_key,
    check_card_row,
    duplicate_person_warning,
)
from tests.healthbook.idrules import (
    FIXTURES,
    NEW_PROVINCE_CODES,
    REPO,
    SHARED_PROVINCES,
    TODAY,
    card,
    load_gen,
    pid,
)

# --------------------------------------------------------------------------
# Problem and messages
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gen():
    """The card generator (healthbook/cards/demo) and its command line (bench/gen_cards.py)."""
    return load_gen()


def test_problem_is_frozen():
    p = ids.problem("REQUIRED", "HO_TEN")
    with pytest.raises(AttributeError):
        p.code = "X"  # type: ignore[misc]


def test_problem_equality_and_repr_do_not_evaluate_the_lazy_message():
    a = ids.problem("REQUIRED", "HO_TEN", "")
    assert a == Problem("REQUIRED", object(), "HO_TEN", "")
    assert "REQUIRED" in repr(a)
    assert hash(a) == hash(Problem("REQUIRED", None, "HO_TEN", ""))


def test_messages_are_lazy_translation_proxies():
    from django.utils.functional import Promise

    assert all(isinstance(m, Promise) for m in MESSAGES.values())


def test_duplicate_person_is_a_warning():
    p = duplicate_person_warning("0100000001")
    assert (p.code, p.severity) == ("DUPLICATE_PERSON", "warning")


def _msgids_from_source():
    tree = ast.parse((REPO / "healthbook" / "identifiers" / "problems.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "MESSAGES":
            return {k.value: v.args[0].value for k, v in zip(node.value.keys, node.value.values, strict=True)}
    raise AssertionError("MESSAGES not found")


def test_every_code_has_a_literal_english_msgid():
    msgids = _msgids_from_source()
    assert set(msgids) == set(MESSAGES)
    assert all(m.isascii() and m.endswith(".") for m in msgids.values())


def test_every_msgid_has_a_vietnamese_translation_in_vi_txt():
    text = (REPO / "healthbook" / "identifiers" / "vi.txt").read_text(encoding="utf-8")
    pairs = dict(line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    msgids = set(_msgids_from_source().values())
    assert set(pairs) == msgids
    assert all(v and not v.isascii() for v in pairs.values())


# --------------------------------------------------------------------------
# row level
# --------------------------------------------------------------------------

REFS = ReferenceSets.defaults(new_province_codes=NEW_PROVINCE_CODES)
GOOD_ROW = {
    "MA_THE_BHYT": "DN4010100000001",
    "MA_SO_BHXH": "0100000001",
    "SO_CCCD": "001085012345",
    "HO_TEN": "Nguyễn Văn An",
    "NGAY_SINH": "19850315",
    "GIOI_TINH": "1",
    "MA_DKBD": "01013",
    "GT_THE_TU": "20260101",
    "GT_THE_DEN": "20261231",
    "MATINH_CU_TRU": "01",
    "DIA_CHI": "Hà Nội",
}


def row_codes(**changes):
    row = dict(GOOD_ROW, **changes)
    return [(p.field, p.code) for p in check_card_row(row, refs=REFS, today=TODAY)]


def test_card_row_valid():
    assert row_codes() == []


def test_card_row_missing_required_cells_are_required():
    assert row_codes(MA_THE_BHYT="", MA_DKBD=None, GT_THE_TU="", GIOI_TINH="", NGAY_SINH="") == [
        ("MA_THE_BHYT", "REQUIRED"),
        ("NGAY_SINH", "REQUIRED"),
        ("GIOI_TINH", "REQUIRED"),
        ("MA_DKBD", "REQUIRED"),
        ("GT_THE_TU", "REQUIRED"),
    ]


def test_card_row_optional_cells_may_be_blank():
    assert row_codes(SO_CCCD="", MA_SO_BHXH="", GT_THE_DEN="", MATINH_CU_TRU="", DIA_CHI="") == []


def test_card_row_future_birth_does_not_also_blame_the_pid():
    assert row_codes(NGAY_SINH="20310101") == [("NGAY_SINH", "BIRTH_FUTURE")]


def test_card_row_unparseable_birth_skips_the_pid_year_check():
    assert row_codes(NGAY_SINH="1985.03.15") == [("NGAY_SINH", "DATE_FORMAT")]


def test_card_row_normalizes_identifier_cells():
    assert row_codes(SO_CCCD=" 001 085 012 345 ", MA_THE_BHYT="dn4010100000001", MA_SO_BHXH="'0100000001") == []


def test_card_row_number_cells_lose_leading_zeros_and_are_rejected():
    assert row_codes(MA_SO_BHXH=100000001, MA_DKBD=1013.0) == [
        ("MA_SO_BHXH", "SIN_FORMAT"),
        ("MA_DKBD", "FACILITY_CODE_FORMAT"),
    ]


def test_card_row_accepts_date_objects_from_xlsx():
    assert row_codes(NGAY_SINH=datetime(1985, 3, 15), GT_THE_TU=date(2026, 1, 1)) == []


def test_card_row_residence_must_be_a_new_province_code():
    assert row_codes(MATINH_CU_TRU="02") == [("MATINH_CU_TRU", "RESIDENCE_PROVINCE")]


def test_card_row_sin_mismatch_is_on_the_card_column():
    assert row_codes(MA_SO_BHXH="0100000002") == [("MA_THE_BHYT", "CARD_SIN_MISMATCH")]


def test_card_row_person_key_is_the_sin_or_the_card_tail():
    assert card_row_person_key(GOOD_ROW) == "0100000001"
    assert card_row_person_key(dict(GOOD_ROW, MA_SO_BHXH="")) == "0100000001"
    assert card_row_person_key({"MA_THE_BHYT": "x"}) is None


# --------------------------------------------------------------------------
# generator round trips (bench/gen_cards.py)
# --------------------------------------------------------------------------


def test_century_sex_digit_of_the_generator_matches_the_identifier_table(gen):
    for year in range(1900, 2400, 7):
        for sex in (1, 2):
            assert CENTURY_SEX_TABLE[gen.century_sex_digit(year, sex)] == (year // 100 * 100, sex)


def test_generated_pids_pass_the_pid_check_with_their_birth_year_and_sex(gen):
    for seed in (0, 1, 99):
        for i in range(0, 5000, 7):
            old, sex, yy, serial = gen.pid_parts(seed, i)
            for year in (1900 + yy, 2000 + yy):
                value = gen.make_pid(old, year, sex, serial)
                assert pid(value, birth_year=year, sex=sex) == []


def test_generated_card_and_sin_agree(gen):
    for i in range(300):
        row, _ = gen.good_row(3, i, TODAY)
        assert card(row["MA_THE_BHYT"], sin=row["MA_SO_BHXH"]) == []


def test_generated_valid_rows_pass_check_card_row(gen):
    for i in range(2000):
        row, _ = gen.good_row(5, i, TODAY)
        assert check_card_row(row, refs=REFS, today=TODAY) == [], (i, row)


def test_generated_bad_rows_fail_exactly_as_labelled(gen):
    seen = set()
    for i, row, info in gen.iter_rows(rows=3000, seed=8, as_of=TODAY, bad_share=0.3):
        got = [(p.field, p.code) for p in check_card_row(row, refs=REFS, today=TODAY) if p.severity == "error"]
        if info is None:
            assert got == [], (i, row)
        else:
            assert got == info["errors"], (i, info, row)
            seen.add(info["kind"])
    assert seen == set(gen.DEFECT_KINDS)


def test_generated_ids_are_unique_within_and_across_seeds(gen):
    pids, sins = set(), set()
    n = 0
    for seed in (1, 2):
        for i in range(20_000):
            old, sex, yy, serial = gen.pid_parts(seed, i)
            pids.add((old, sex, yy, serial))
            sins.add(gen.sin_for(seed, i))
            n += 1
    assert len(pids) == n and len(sins) == n


def test_generated_rows_are_deterministic(gen):
    a = [r for _, r, _ in gen.iter_rows(rows=200, seed=4, as_of=TODAY, bad_share=0.2)]
    b = [r for _, r, _ in gen.iter_rows(rows=200, seed=4, as_of=TODAY, bad_share=0.2)]
    assert a == b


def test_generated_names_are_nfc_vietnamese(gen):
    import unicodedata

    for i in range(200):
        name = gen.good_row(6, i, TODAY)[0]["HO_TEN"]
        assert unicodedata.is_normalized("NFC", name) and len(name.split()) >= 3


def test_generator_cli_writes_csv_and_expected_json(gen, tmp_path):
    out, exp = tmp_path / "c.csv", tmp_path / "c.json"
    gen.main(
        [
            "--rows",
            "500",
            "--seed",
            "9",
            "--bad-share",
            "0.2",
            "--out",
            str(out),
            "--emit-expected",
            str(exp),
            "--quiet",
        ]
    )
    expected = json.loads(exp.read_text(encoding="utf-8"))
    bad = {e["line"]: [(x["column"], x["code"]) for x in e["errors"]] for e in expected["rejected"]}
    with out.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        lines = 0
        for row in reader:
            got = [(p.field, p.code) for p in check_card_row(row, refs=REFS, today=TODAY)]
            assert got == bad.get(reader.line_num, []), reader.line_num
            lines += 1
    c = expected["counts"]
    assert (c["rows"], c["accepted"] + c["rejected"], c["rejected"]) == (500, 500, len(bad))
    assert lines == 500


def test_generator_xlsx_keeps_leading_zeros(gen, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "c.xlsx"
    gen.main(["--rows", "30", "--seed", "9", "--format", "xlsx", "--out", str(out), "--quiet"])
    wb = load_workbook(out, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    header = rows[0]
    for values in rows[1:]:
        row = dict(zip(header, values, strict=True))
        assert check_card_row(row, refs=REFS, today=TODAY) == []
    assert len(rows) == 31


def test_existing_rows_replay_rows_of_the_source_seed(gen):
    src = {i: r for i, r, _ in gen.iter_rows(rows=400, seed=21, as_of=TODAY)}
    seen = set()
    for _i, row, info in gen.iter_rows(
        rows=300,
        seed=22,
        as_of=TODAY,
        existing_share=0.5,
        existing_seed=21,
        existing_rows=400,
        existing_change_share=0.3,
    ):
        if info and info["status"] == "existing":
            source = src[info["source_line"] - 2]
            assert info["source_line"] not in seen
            seen.add(info["source_line"])
            same = [c for c in gen.COLUMNS if row[c] == source[c]]
            if info["changed"]:
                assert "GT_THE_TU" not in same and "MA_SO_BHXH" in same
            else:
                assert row == source
    assert len(seen) > 100


def test_existing_seed_must_differ_modulo_100(gen):
    with pytest.raises(ValueError):
        list(gen.iter_rows(rows=5, seed=1, as_of=TODAY, existing_share=0.5, existing_seed=101))


@pytest.mark.skipif(not SHARED_PROVINCES.exists(), reason="shared/ not beside the repo")
def test_generator_province_table_matches_shared_provinces_csv(gen):
    with SHARED_PROVINCES.open(encoding="utf-8") as fh:
        rows = {r["code"]: (r["name_vi"], tuple(r["old_codes"].split(";"))) for r in csv.DictReader(fh)}
    assert {p[0]: (p[1], p[2]) for p in gen.PROVINCES} == rows


# --------------------------------------------------------------------------
# held-out fixtures (tests/fixtures/cards)
# --------------------------------------------------------------------------


def _read_fixture(path: Path):
    """Minimal reference reader: BOM, delimiter chosen from the header line,
    header names stripped and upper-cased; yields (physical line, row)."""
    text = path.read_bytes().decode("utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().upper() for h in next(reader)]
    for values in reader:
        yield reader.line_num, dict(zip(header, values, strict=True))


def _import_like(path: Path, today: date):
    rejected, superseded, warnings = [], [], []
    last_valid: dict[str, int] = {}
    rows = 0
    for line, row in _read_fixture(path):
        rows += 1
        problems = check_card_row(row, refs=REFS, today=today)
        errors = [p for p in problems if p.severity == "error"]
        warnings += [(line, p.field, p.code) for p in problems if p.severity == "warning"]
        if errors:
            rejected.append((line, sorted((p.field, p.code) for p in errors)))
            continue
        key = card_row_person_key(row)
        if key in last_valid:
            superseded.append((last_valid[key], line))
        last_valid[key] = line
    return rows, rejected, superseded, warnings


EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_held_out_fixture_matches_expected(name):
    exp = EXPECTED["files"][name]
    rows, rejected, superseded, warnings = _import_like(FIXTURES / name, date.fromisoformat(EXPECTED["today"]))
    assert rejected == [(e["line"], sorted((x["column"], x["code"]) for x in e["errors"])) for e in exp["rejected"]]
    assert superseded == [(s["line"], s["by_line"]) for s in exp["superseded"]]
    assert [list(w) for w in warnings] == exp["warnings"]
    accepted = rows - len(rejected) - len(superseded)
    assert {"rows": rows, "accepted": accepted, "rejected": len(rejected), "superseded": len(superseded)} == exp[
        "counts"
    ]


def test_held_out_comma_fixture_has_bom_crlf_and_mixed_case_header():
    raw = (FIXTURES / "cards_comma_bom_crlf.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    header = raw[3:].split(b"\r\n", 1)[0].decode()
    assert header != header.upper() and header.split(",")[0].upper() == "HO_TEN"


@pytest.mark.parametrize("split", [(3, 5), (7, 11), (10, 10)])
def test_generator_id_scrambler_is_a_bijection(gen, split):
    n = split[0] * split[1]
    images = [gen._feistel(x, split, 99) for x in range(n)]
    assert sorted(images) == list(range(n))
    assert all(gen._feistel_inverse(y, split, 99) == x for x, y in enumerate(images))


def test_generator_never_emits_the_all_zero_sin(gen):
    g = gen._SIN_ZERO_PREIMAGE
    assert gen.sin_for(g // gen.MAX_ROWS, g % gen.MAX_ROWS) != "0000000000"
