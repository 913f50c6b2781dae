"""Export endpoints (CSV/XLSX) that the S13 check downloads besides those the crawler meets.

The crawler already checks every response whose content type is CSV or a spreadsheet. An export
reached only by a form (POST) or with parameters the crawler cannot guess goes here:
(label, actor name, callable(client, world) -> response). Append; do not edit others' lines.
"""

EXPORTS: list = []

SPREADSHEET_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "application/vnd.ms-excel")
