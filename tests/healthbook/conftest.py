"""Fixtures for the health book tests: the code lists the card import checks, card files."""

import csv
import io
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from tests.codelists import factories as cf

SEED_DIR = Path(__file__).resolve().parents[2] / "codelists" / "seed"
HEADER = [
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
]


def _seed_rows(key: str):
    with open(SEED_DIR / f"{key}.csv", encoding="utf-8") as fh:
        return [(r["code"], r["display_vi"], r["active"] == "1") for r in csv.DictReader(fh)]


@pytest.fixture
def card_codelists(db):
    """The beneficiary-group and ethnicity lists of the seed, published and in force."""
    for key in ("beneficiary-group", "ethnicity"):
        system = cf.system(key, max_code_length=4)
        cf.version(system, "seed", _seed_rows(key), effective_from=date(2020, 1, 1))


def person(n: int, **over) -> dict:
    """A valid generated person/card row; n makes the identifiers unique."""
    sin = f"79{n:08d}"
    row = {
        "MA_THE_BHYT": f"DN479{sin}",
        "MA_SO_BHXH": sin,
        "SO_CCCD": f"0790852{n:05d}",
        "HO_TEN": "Nguyễn Văn An",
        "NGAY_SINH": "19850312",
        "GIOI_TINH": "1",
        "MA_DKBD": "79001",
        "GT_THE_TU": "20250101",
        "GT_THE_DEN": "20251231",
        "MATINH_CU_TRU": "79",
        "DIA_CHI": "Số 1 Lê Lợi, phường Bến Thành, TP. Hồ Chí Minh",
    }
    row.update(over)
    return row


def to_cp1258(text: str) -> bytes:
    """Encode Vietnamese as Windows-1258 does: base letter (â, ê, ơ, ư, ă…) plus a combining tone mark."""
    out = []
    for ch in text:
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", ch)
            for i, mark in enumerate(marks):  # compose the base with one mark, keep the other combining
                rest = "".join(marks[:i] + marks[i + 1 :])
                try:
                    out.append((unicodedata.normalize("NFC", base + mark) + rest).encode("cp1258"))
                    break
                except UnicodeEncodeError:
                    continue
            else:
                out.append((base + "".join(marks)).encode("cp1258"))
    return b"".join(out)


def card_csv(rows, *, header=HEADER, delimiter=",", newline="\r\n", encoding="utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    if encoding == "cp1258":
        return to_cp1258(out.getvalue())
    return out.getvalue().encode(encoding)


@pytest.fixture
def import_file(db, card_codelists, settings, tmp_path):
    """Import bytes synchronously through the real service: `import_file(data, user=None)` → batch."""
    settings.MEDIA_ROOT = str(tmp_path / "media")

    def _import(data: bytes, *, user=None, name="cards.csv"):
        from healthbook.cards.services import card_batch_create

        return card_batch_create(acting_user=user, fh=io.BytesIO(data), name=name, run_now=True).batch

    return _import
