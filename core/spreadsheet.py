"""Spreadsheets the portal reads and writes: formula cells in exports, bombs in uploads.

Formula cells (CSV injection): a text cell starting with = + - @ (or a tab / carriage return)
is prefixed with an apostrophe, which office programs show as plain text. `unquote_formula`
undoes it when such a file is imported back, so that an export re-imports unchanged. Every
CSV/XLSX export uses this module (a test, tests/core/test_spreadsheet_everywhere.py, refuses a
second copy of the rule).

XLSX bombs: `xlsx_inspect` reads only the zip directory (and counts rows of unsized sheets
while inflating, parsing nothing) and refuses a workbook that would inflate too far, before
openpyxl sees it. Card imports (healthbook.cards.files) and code-list imports
(codelists.imports) both call it: one rule, one place (issue 15, attack 14).
"""

from __future__ import annotations

import re
import zipfile
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SCAN_BLOCK = 1024 * 1024


def neutralise_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unquote_formula(value):
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


class FileRefused(Exception):
    """The whole file cannot be imported; `code` is stable, `message` says why in words."""

    def __init__(self, code: str, message, **details: Any):
        super().__init__(code)
        self.code = code
        self.message = message
        self.details = details


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def xlsx_inspect(fh: IO[bytes]) -> None:
    """Refuse, with FileRefused, an XLSX (zip) that would inflate too far before any XML of it is
    parsed: too many parts, a part inflating more than CARD_IMPORT_XLSX_MAX_RATIO times over 1 MB,
    more than CARD_IMPORT_XLSX_MAX_UNCOMPRESSED in all, a shared-strings table over
    CARD_IMPORT_XLSX_MAX_SHARED_STRINGS, an unsized sheet with too many rows. Every XLSX import
    of the portal (card files, code lists) calls it before openpyxl opens the file; the limits
    keep their first user's names (settings.py)."""
    max_total = _setting("CARD_IMPORT_XLSX_MAX_UNCOMPRESSED", 1024**3)
    max_ratio = _setting("CARD_IMPORT_XLSX_MAX_RATIO", 100)
    max_strings = _setting("CARD_IMPORT_XLSX_MAX_SHARED_STRINGS", 48 * 1024**2)
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRefused("xlsx_invalid", _("The file is not a readable XLSX workbook.")) from exc
    if len(infos) > 10_000:
        raise FileRefused("xlsx_bomb", _("The workbook has too many parts to be a file to import."))
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > max_ratio:
            raise FileRefused(
                "xlsx_bomb",
                _("The workbook inflates far more than a real spreadsheet does; it was not opened."),
                part=info.filename,
                ratio=round(ratio),
            )
        if info.filename.lower().endswith("sharedstrings.xml") and info.file_size > max_strings:
            raise FileRefused(
                "xlsx_too_many_strings",
                _("The workbook's text table is too large to read safely; export the sheet as CSV UTF-8 instead."),
            )
    if total > max_total:
        raise FileRefused(
            "xlsx_bomb",
            _("The workbook inflates far more than a real spreadsheet does; it was not opened."),
            uncompressed=total,
        )
    _check_sheet_sizes(fh, infos)


_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.I)
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\b")
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData\b")
_ROW = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")


def _check_sheet_sizes(fh: IO[bytes], infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a large worksheet without its size record (`<dimension>`) that has more rows than
    a card file can. openpyxl, opening a sheet without it, walks the sheet to the end and keeps
    one object per row (about 90 bytes), whatever the row holds: a small upload of millions of
    empty rows would need gigabytes. Streaming writers (openpyxl's write-only mode) omit the
    record, so such sheets are not refused outright: their rows are counted while inflating
    (nothing is parsed), and only more than CARD_IMPORT_XLSX_MAX_UNSIZED_ROWS refuses the file."""
    limit = _setting("CARD_IMPORT_XLSX_MAX_UNSIZED_SHEET", 16 * 1024**2)
    max_rows = _setting("CARD_IMPORT_XLSX_MAX_UNSIZED_ROWS", 2_000_000)
    with zipfile.ZipFile(fh) as zf:
        for info in infos:
            if not _SHEET_PART.match(info.filename) or info.file_size <= limit:
                continue
            with zf.open(info) as part:
                head = part.read(SCAN_BLOCK // 16)
                dimension, data = _DIMENSION.search(head), _SHEET_DATA.search(head)
                if dimension is not None and (data is None or dimension.start() < data.start()):
                    continue
                rows, carry, block = 0, b"", head
                while True:
                    text = carry + block
                    cut = max(len(text) - 64, 0) if block else len(text)  # a tag may straddle two blocks
                    rows += sum(1 for m in _ROW.finditer(text) if m.start() < cut)
                    carry = text[cut:]
                    if rows > max_rows:
                        raise FileRefused(
                            "xlsx_unsized_sheet",
                            _(
                                "A sheet of the workbook has far more rows than a file to import and no size "
                                "record, so it cannot be read safely; export the sheet as CSV UTF-8."
                            ),
                            part=info.filename,
                        )
                    if not block:
                        break
                    block = part.read(SCAN_BLOCK)
