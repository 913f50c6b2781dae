"""CSV and XLSX downloads of dashboard tables.

Text cells that a spreadsheet would read as a formula (starting with = + - @, or a tab or
carriage return) get a leading apostrophe (core.spreadsheet, the one rule of every export), so
an exported facility name can never run as a formula (CSV injection). Numbers stay numbers;
dates are written dd/mm/yyyy (CSV) or as real dates (XLSX); times are Vietnam time.
"""

import csv
import datetime as dt
import io
import re

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from core.spreadsheet import neutralise_formula
from provinces.tables import Table

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain(value):
    """A cell as Python value for a spreadsheet: aware times to local naive, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float, dt.date)):
        return value
    return neutralise_formula(str(value))


def _csv_cell(value):
    value = _plain(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


def filename(prefix: str, table: Table, ext: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", prefix)
    return f"{safe}-{table.key}-{timezone.localdate():%Y%m%d}.{ext}"


def csv_response(table: Table, prefix: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise_formula(str(label)) for _, label in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(v) for v in row])
    # A byte-order mark so that Excel opens the UTF-8 Vietnamese text correctly.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(prefix, table, "csv")}"'
    return response


def _xlsx_cell(sheet, value):
    # openpyxl stores a string starting with "=" as a formula: _plain neutralised those.
    value = _plain(value)
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD/MM/YYYY HH:MM" if isinstance(value, dt.datetime) else "DD/MM/YYYY"
        return cell
    return value


def xlsx_bytes(table: Table) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.key[:31])
    sheet.append([neutralise_formula(str(label)) for _, label in table.columns])
    for row in table.rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_response(table: Table, prefix: str) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(table), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(prefix, table, "xlsx")}"'
    return response
