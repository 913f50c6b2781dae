"""The line list as CSV or XLSX (formula-neutralised through provinces.exports / core.spreadsheet)."""

from django.utils.translation import gettext as _

from provinces.exports import csv_response, xlsx_response
from provinces.tables import Table
from publichealth.models import LineListOpening
from publichealth.selectors import all_rows


def line_list_table(opening: LineListOpening) -> Table:
    columns = [
        ("id", _("Personal ID (masked)")),
        ("name", _("Full name")),
        ("age", _("Age")),
        ("sex", _("Sex")),
        ("commune", _("Commune")),
        ("phone", _("Phone")),
        ("address", _("Address")),
        ("last_contact", _("Last contact")),
        ("reason", _("Why listed")),
        ("reminder", _("Reminder this month")),
    ]
    rows = [
        [r.masked_id, r.name, r.age, r.sex, r.commune, r.phone, r.address, r.last_contact, r.reason, r.reminder_label]
        for r in all_rows(opening)
    ]
    return Table(key="danh-sach", title=opening.cohort_name, columns=columns, rows=rows)


def line_list_response(opening: LineListOpening, fmt: str):
    table = line_list_table(opening)
    prefix = f"ytcc-{opening.cohort_key}-{opening.province.code}"
    return xlsx_response(table, prefix) if fmt == "xlsx" else csv_response(table, prefix)
