"""The table of docs/intake.md "The whole record" (issue 17) holds: every accepted FHIR resource
type and every XML 130 table has a row, its models exist, its pages resolve (and are book pages,
so they decide access and log), and what `$everything` serves is FHIR R4."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from healthbook.intake.fhir_bundle import SUPPORTED
from healthbook.intake.xml130 import load_spec

from .whole_record_table import rows

ROWS = rows()


def test_every_fhir_type_and_xml_table_has_a_row():
    sources = {r.source for r in ROWS}
    assert set(SUPPORTED) <= sources
    assert set(load_spec()) <= sources
    assert "any other FHIR type" in sources


@pytest.mark.parametrize("row", ROWS, ids=[r.source for r in ROWS])
def test_row_names_real_models_pages_and_resources(row):
    assert row.models, row
    for name in row.models:
        apps.get_model("healthbook", name)
    for page in row.pages:
        kwargs = {"public_id": "5e5e5e5e-0000-4000-8000-5e5e5e5e5e5e"}
        if page == "book-visit":
            kwargs["visit_id"] = 1
        assert reverse(page, kwargs=kwargs).startswith("/doctor/books/")
    for resource in row.resources:
        module = importlib.import_module(f"fhir.resources.R4B.{resource.lower()}")
        assert getattr(module, resource).__resource_type__ == resource
    if not row.is_xml and row.source != "any other FHIR type":
        assert row.resources and row.keys, f"{row.source} is accepted but not served back"


NEVER_SERVED = {"XML0", "XML6", "XML15"}  # a check-in; HIV and tuberculosis (sensitive)


def test_every_xml_table_shown_is_served_back():
    """Issue 17 point 3: every XML 130 table the book shows comes back, except the check-in and the
    sensitive tables, which the table says are never served."""
    for row in ROWS:
        if row.is_xml and row.source not in NEVER_SERVED:
            assert row.resources and row.keys, f"{row.source} is shown but not served back"
