"""Card batch files from the generated people: labelled defects, rows re-used from an earlier
file, CSV or XLSX writers, and the expected outcome of each row."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import sys
import tempfile
import time
from datetime import date

from healthbook.cards.demo.people import (
    COLUMNS,
    MAX_ROWS,
    SEED_SLOTS,
    _add_years,
    _mix,
    _ymd,
    century_sex_digit,
    good_row,
)

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


def batch_file_write(path, *, rows: int, seed: int, bad_share: float = 0.0, as_of: str = "2026-01-01") -> dict:
    """Write one generated CSV batch file (the command line's defaults otherwise)."""
    from types import SimpleNamespace

    return generate(
        SimpleNamespace(
            rows=rows,
            seed=seed,
            bad_share=bad_share,
            format="csv",
            out=str(path),
            as_of=as_of,
            existing_share=0.0,
            existing_seed=None,
            existing_rows=None,
            existing_change_share=0.0,
            delimiter=",",
            bom=False,
            emit_expected=None,
        )
    )
