"""Export endpoints (CSV/XLSX) that the S13 check downloads besides those the crawler meets.

The crawler already checks every response whose content type is CSV or a spreadsheet. An export
reached only by a form (POST) or with parameters the crawler cannot guess goes here:
(label, actor name, callable(client, world) -> response). Append; do not edit others' lines.
"""

EXPORTS: list = []

SPREADSHEET_TYPES = (
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
)


# --- exports of the capabilities merged after the suite (hostile names seeded by world.py) ---


def _get(path, **params):
    return lambda client, world: client.get(path, params)


def _codelist_export(fmt):
    def fetch(client, world):
        v = world.objects["codelist_v2"]
        return client.get(f"/codelists/{v.system.key}/versions/{v.pk}/export.{fmt}")

    return fetch


def _codelist_compare(client, world):
    v1, v2 = world.objects["codelist_v1"], world.objects["codelist_v2"]
    return client.get(f"/codelists/{v1.system.key}/compare/", {"a": v1.pk, "b": v2.pk, "format": "csv"})


def _card_batch_rejected(api: bool):
    def fetch(client, world):
        batch = world.objects["card_batch_01"].public_id
        if api:
            return client.get(f"/api/v1/card-batches/{batch}/rejected-rows.csv")
        return client.get(f"/books/card-batches/{batch}/rejected.csv")

    return fetch


EXPORTS += [
    ("facilities export (officer, province 01)", "officer_hanoi", _get("/facilities/export/")),
    ("code-list version export CSV", "ministry_editor", _codelist_export("csv")),
    ("code-list version export XLSX", "ministry_editor", _codelist_export("xlsx")),
    ("code-list compare CSV", "ministry_editor", _codelist_compare),
    ("card batch rejected rows (page)", "officer_hanoi", _card_batch_rejected(api=False)),
    ("card batch rejected rows (API)", "officer_hanoi", _card_batch_rejected(api=True)),
]
EXPORTS += [
    (f"province 01 dashboard {table}.{fmt}", "officer_hanoi", _get(f"/dashboards/province/01/export/{table}.{fmt}"))
    for table in ("kpis", "facilities", "completeness", "silent", "connectivity", "pending", "rejections", "trend")
    for fmt in ("csv", "xlsx")
]
EXPORTS += [
    (f"province 01 communes {fmt}", "officer_hanoi", _get(f"/dashboards/province/01/communes/export/communes.{fmt}"))
    for fmt in ("csv", "xlsx")
]
EXPORTS += [
    (f"national dashboard {table}.{fmt}", "ministry_admin", _get(f"/dashboards/national/export/{table}.{fmt}"))
    for table in ("kpis", "ranking", "trend", "rejections")
    for fmt in ("csv", "xlsx")
]


def _codelist_impact(fmt):
    def fetch(client, world):
        v = world.objects["codelist_draft"]
        return client.get(f"/codelists/{v.system.key}/versions/{v.pk}/impact.{fmt}")

    return fetch


EXPORTS += [
    ("code-list retired-code impact CSV", "ministry_editor", _codelist_impact("csv")),
    ("code-list retired-code impact XLSX", "ministry_editor", _codelist_impact("xlsx")),
]
