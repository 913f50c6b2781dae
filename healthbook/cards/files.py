"""Open a stored card file: check it, detect its layout, then stream its rows.

Everything that can make a whole file unusable is found by `inspect_file` before a single
row is loaded: a format we do not read, an XLSX that would inflate too far, an encoding we
cannot convert without mojibake, or missing required columns. `iter_rows` then streams the
rows with bounded memory (csv module over a decoding wrapper; openpyxl read-only mode).

Line numbers are record numbers as a spreadsheet shows them: the header is line 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.spreadsheet import FileRefused, xlsx_inspect
from healthbook.cards.columns import map_header

__all__ = [
    "ByteRange",
    "FileLayout",
    "FileRefused",
    "RangeInexact",
    "inspect_file",
    "iter_cells",
    "iter_range_cells",
    "iter_rows",
    "split_csv",
]

ZIP_MAGIC = b"PK\x03\x04"
SAMPLE_BYTES = 256 * 1024
SCAN_BLOCK = 1024 * 1024
# A valid multi-byte UTF-8 sequence (2 or 3 bytes) — Vietnamese letters in UTF-8 look like this.
_UTF8_SEQ = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}")


@dataclass
class FileLayout:
    file_format: str
    encoding: str = ""
    delimiter: str = ""
    columns: dict[int, str] = field(default_factory=dict)
    header_width: int = 0
    rows_estimated: int | None = None


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def inspect_file(fh: IO[bytes], *, size: int) -> FileLayout:
    """Check the whole file and return its layout, or raise FileRefused."""
    if size == 0:
        raise FileRefused("file_empty", _("The file is empty."))
    if size > _setting("CARD_IMPORT_MAX_BYTES", 8 * 1024**3):
        raise FileRefused("file_too_large", _("The file is larger than the import limit."), size=size)
    fh.seek(0)
    head = fh.read(4)
    fh.seek(0)
    if head == ZIP_MAGIC:
        return _inspect_xlsx(fh)
    if head[:2] in (b"\xd0\xcf",):
        raise FileRefused("xls_not_supported", _("Old Excel files (.xls) are not read: save the file as .xlsx or CSV."))
    return _inspect_csv(fh, size=size)


# ---------------------------------------------------------------- CSV


def _detect_encoding(fh: IO[bytes]) -> str:
    """Return a Python codec for the file, or refuse. UTF-8 (with or without BOM) and UTF-16
    with BOM are read as they are; Windows-1258 (Vietnamese) is converted if charset-normalizer
    recognises it; anything else, and a mix of UTF-8 and another encoding, is refused."""
    fh.seek(0)
    head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    fh.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    utf8_sequences = 0
    try:
        while block := fh.read(SCAN_BLOCK):
            decoder.decode(block)
            if encoding == "utf-8" and utf8_sequences == 0:
                utf8_sequences = len(_UTF8_SEQ.findall(block))
        decoder.decode(b"", final=True)
        return encoding
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise FileRefused(
                "encoding_invalid", _("The file starts with a Unicode byte-order mark but is not valid Unicode.")
            ) from exc
        failure = exc
    fh.seek(0)
    # Any valid UTF-8 letter next to invalid bytes means two encodings were mixed.
    while block := fh.read(SCAN_BLOCK):
        utf8_sequences += len(_UTF8_SEQ.findall(block))
        if utf8_sequences:
            raise FileRefused(
                "encoding_mixed",
                _("The file mixes UTF-8 with another encoding; save it again as UTF-8 (CSV UTF-8 in Excel)."),
                position=failure.start,
            )
    from charset_normalizer import from_bytes

    fh.seek(0)
    sample = fh.read(SAMPLE_BYTES)
    guess = from_bytes(sample, cp_isolation=["cp1258", "cp1252", "latin_1", "utf_16"]).best()
    name = (guess.encoding if guess else "") or ""
    if name not in ("cp1258", "cp1252", "latin_1"):
        raise FileRefused(
            "encoding_unknown",
            _("The file is not in UTF-8 and its encoding could not be recognised; save it again as UTF-8."),
            detected=name,
        )
    # Vietnamese single-byte text is Windows-1258; its byte range overlaps 1252/Latin-1, whose
    # letters 1258 maps the same way, so 1258 is the conversion that cannot produce mojibake
    # for Vietnamese and changes nothing for Western text.
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("cp1258")("strict")
    try:
        while block := fh.read(SCAN_BLOCK):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise FileRefused(
            "encoding_unknown",
            _("The file is not in UTF-8 and its encoding could not be recognised; save it again as UTF-8."),
            detected=name,
        ) from exc
    return "cp1258"


def _text_stream(fh: IO[bytes], encoding: str) -> io.TextIOWrapper:
    fh.seek(0)
    return io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="")


def _inspect_csv(fh: IO[bytes], *, size: int) -> FileLayout:
    encoding = _detect_encoding(fh)
    text = _text_stream(fh, encoding)
    try:
        header_line = text.readline()
        sample = text.read(SAMPLE_BYTES)
    finally:
        text.detach()
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        delimiter = ","
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    columns, missing, duplicated = map_header(header)
    _check_columns(missing, duplicated)
    sample_records = sample.count("\n")
    estimate = None
    if sample_records:
        header_bytes = len(header_line.encode(encoding, errors="replace"))
        per_record = max(1, len(sample.encode(encoding, errors="replace")) / sample_records)
        estimate = max(sample_records, round((size - header_bytes) / per_record))
    return FileLayout(
        file_format="csv",
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        header_width=len(header),
        rows_estimated=estimate,
    )


def _check_columns(missing: list[str], duplicated: list[str]) -> None:
    if missing:
        raise FileRefused(
            "columns_missing",
            _("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)},
            missing=missing,
        )
    if duplicated:
        raise FileRefused(
            "columns_duplicated",
            _("These columns appear more than once: %(columns)s.") % {"columns": ", ".join(duplicated)},
            duplicated=duplicated,
        )


# ---------------------------------------------------------------- XLSX


def _check_zip(fh: IO[bytes]) -> None:
    """Refuse a zip that would inflate too far before any XML is parsed (XLSX bombs): the
    portal's one inspector, shared with the code-list import (core.spreadsheet)."""
    xlsx_inspect(fh)


def _open_sheet(fh: IO[bytes]):
    import openpyxl  # openpyxl parses with defusedxml when it is installed (it is: requirements.txt)

    fh.seek(0)
    try:
        workbook = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many types for a broken file
        raise FileRefused("xlsx_invalid", _("The file is not a readable XLSX workbook.")) from exc
    return workbook, workbook.worksheets[0]


def _inspect_xlsx(fh: IO[bytes]) -> FileLayout:
    _check_zip(fh)
    workbook, sheet = _open_sheet(fh)
    try:
        header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        columns, missing, duplicated = map_header(list(header))
        _check_columns(missing, duplicated)
        max_row = sheet.max_row
    finally:
        workbook.close()
    return FileLayout(
        file_format="xlsx",
        columns=columns,
        header_width=len(header),
        rows_estimated=(max_row - 1) if max_row and max_row > 1 else None,
    )


# ---------------------------------------------------------------- rows

ROW_WIDTH = "ROW_WIDTH"


def iter_cells(fh: IO[bytes], layout: FileLayout, *, skip: int = 0) -> Iterator[tuple[int, list | tuple | None]]:
    """Yield (line, cells) for each non-empty data record after the first `skip` ones.

    `cells` is the record as read (positions as in `layout.columns`); it is None when the
    record has more non-empty cells than the header (misaligned data, reported as ROW_WIDTH).
    """
    records = _csv_records(fh, layout) if layout.file_format == "csv" else _xlsx_records(fh)
    return _cells(records, layout.header_width, skip)


def _cells(records, width: int, skip: int) -> Iterator[tuple[int, list | tuple | None]]:
    seen = 0
    for line, cells in records:
        if not any(cells):
            # Fast test first: every cell is falsy (an empty string, None, 0…); a record counts
            # as empty only when all cells are None or "".
            if not any(c not in (None, "") for c in cells):
                continue
        seen += 1
        if seen <= skip:
            continue
        if len(cells) > width and any(c not in (None, "") for c in cells[width:]):
            yield line, None
            continue
        yield line, cells


def cells_to_row(cells: list | tuple | None, columns: list[tuple[int, str]]) -> dict | None:
    """The record as the row validator reads it: internal key -> cell value (None past the end)."""
    if cells is None:
        return None
    n = len(cells)
    return {key: (cells[i] if i < n else None) for i, key in columns}


def iter_rows(fh: IO[bytes], layout: FileLayout, *, skip: int = 0) -> Iterator[tuple[int, dict | None]]:
    """Yield (line, row) for each non-empty data record after the first `skip` ones.

    `row` maps the internal keys (MA_THE_BHYT, …) to cell values; it is None when the record
    has more non-empty cells than the header (misaligned data, reported as ROW_WIDTH).
    """
    columns = [(int(i), key) for i, key in layout.columns.items()]
    for line, cells in iter_cells(fh, layout, skip=skip):
        yield line, cells_to_row(cells, columns)


def _csv_records(fh: IO[bytes], layout: FileLayout) -> Iterator[tuple[int, list]]:
    text = _text_stream(fh, layout.encoding)
    reader = csv.reader(text, delimiter=layout.delimiter)
    next(reader, None)
    yield from enumerate(reader, start=2)


def _xlsx_records(fh: IO[bytes]) -> Iterator[tuple[int, tuple]]:
    workbook, sheet = _open_sheet(fh)
    try:
        yield from enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2)
    finally:
        workbook.close()


# ---------------------------------------------------------------- byte ranges

# Encodings in which a line end, a quote and a delimiter are the single ASCII bytes themselves
# (never part of another character), read from the middle of the file as they are.
_RANGE_ENCODINGS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "cp1258": "cp1258"}


@dataclass(frozen=True)
class ByteRange:
    """A range of a CSV file cut at line ends: bytes `start` to `end`, `records` lines, the first on
    line `first_line` (whole records if the cut is exact, which its reader checks)."""

    start: int
    first_line: int
    records: int
    end: int


class RangeInexact(Exception):
    """A range's reader found that the file cannot be read by ranges: a record spans lines (a line
    end inside quotes, perhaps across the cut) or a bare "\\r" ends one. One reader reads it then."""


def split_csv(fh: IO[bytes], layout: FileLayout, *, size: int, parts: int) -> list[ByteRange] | None:
    """Cut the data lines of a CSV file into `parts` ranges at line ends ("\\n"), for readers side
    by side; None when the file is not to be read by ranges (then one reader reads it all).

    One pass over the bytes, at memory speed: a range starts after a "\\n", and its first line
    number is one more than the "\\n" bytes before it. The cut is exact when every record is one
    line of its own; that costs a pass of the csv module over the whole file, which each range's
    reader makes anyway, so the readers check it (iter_range_cells): a record that spans lines,
    in a range or across a cut, makes a reader raise RangeInexact, and the file is read again by
    one reader (reading.refuse_ranges)."""
    if layout.file_format != "csv" or parts < 2 or layout.encoding not in _RANGE_ENCODINGS:
        return None
    fh.seek(0)
    targets = [size * k // parts for k in range(parts)]
    cuts: list[tuple[int, int]] = []  # (byte after a "\\n", "\\n" bytes up to it)
    newlines = offset = 0
    last = b""
    while block := fh.read(SCAN_BLOCK):
        while targets:
            # The first cut is the end of the header line, wherever the first target falls.
            pos = block.find(b"\n", 0 if not cuts else max(targets[0] - offset, 0))
            if pos < 0:
                break
            cuts.append((offset + pos + 1, newlines + block.count(b"\n", 0, pos + 1)))
            targets.pop(0)
        newlines += block.count(b"\n")
        offset += len(block)
        last = block[-1:]
    lines = newlines if last == b"\n" else newlines + 1  # the header's included
    starts = sorted({(start, before) for start, before in cuts if start < size})
    ranges = []
    for k, (start, before) in enumerate(starts):
        end, end_line = (starts[k + 1][0], starts[k + 1][1] + 1) if k + 1 < len(starts) else (size, lines + 1)
        ranges.append(ByteRange(start=start, first_line=before + 1, records=end_line - before - 1, end=end))
    return ranges if len(ranges) == parts and all(r.records > 0 for r in ranges) else None


class _Slice(io.RawIOBase):
    """Bytes `start` to `end` of a file, as a stream of their own."""

    def __init__(self, fh: IO[bytes], start: int, end: int):
        fh.seek(start)
        self._fh = fh
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._fh.read(min(len(buffer), self._left))
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def _range_records(fh: IO[bytes], layout: FileLayout, rng: ByteRange) -> Iterator[tuple[int, list]]:
    """The records of a range, numbered from its first line; RangeInexact as soon as the range is
    found not to hold exactly its lines, one record each: a record spans lines (the csv module
    read more lines than records), a bare "\\r" ended one (more records or lines than the "\\n"
    of the cut counted), or the last record's quotes are still open at the range's end (a line end
    in its cells). The csv module refusing the range (a cell over its size limit) counts as
    inexact too: one reader reads the file and reports what it finds."""
    stream = io.BufferedReader(_Slice(fh, rng.start, rng.end), buffer_size=SCAN_BLOCK)
    text = io.TextIOWrapper(stream, encoding=_RANGE_ENCODINGS[layout.encoding], errors="strict", newline="")
    reader = csv.reader(text, delimiter=layout.delimiter)
    before = rng.first_line - 1  # lines of the file before the range
    line = before
    cells: list = []
    try:
        for line, cells in enumerate(reader, start=rng.first_line):  # noqa: B007 — the last is checked below
            if reader.line_num != line - before:
                raise RangeInexact
            yield line, cells
    except csv.Error as exc:
        raise RangeInexact from exc
    if line - before != rng.records or any("\n" in c or "\r" in c for c in cells):
        raise RangeInexact


def iter_range_cells(
    fh: IO[bytes], layout: FileLayout, rng: ByteRange, *, skip: int = 0
) -> Iterator[tuple[int, list | None]]:
    """As iter_cells, over the records of one range of split_csv (no header: it is in none). Raises
    RangeInexact (after the records read so far) when the file cannot be read by ranges."""
    return _cells(_range_records(fh, layout, rng), layout.header_width, skip)
