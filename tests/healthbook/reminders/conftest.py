"""Fixtures of the reminder tests (the builders are the dashboards tests': tests.provinces.conftest)."""

import datetime as dt

import pytest


@pytest.fixture
def vaccine_list(db):
    """The `vaccine` code list as seeded (codelists/seed/vaccine.csv), published and in force."""
    import csv
    import json
    from pathlib import Path

    from tests.codelists import factories as cf

    seed = Path(__file__).resolve().parents[3] / "codelists" / "seed" / "vaccine.csv"
    with seed.open(encoding="utf-8") as handle:
        rows = [
            (r["code"], r["display_vi"], r["active"] == "1", json.loads(r["properties"] or "{}"))
            for r in csv.DictReader(handle)
        ]
    return cf.version(cf.system("vaccine", max_code_length=40), "seed", rows, effective_from=dt.date(2020, 1, 1))
