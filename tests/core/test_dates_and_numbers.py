"""Dates are typed dd/mm/yyyy on every form whatever the browser's language, and numbers are
written one way per language (issue 18)."""

import datetime as dt
import importlib
from decimal import Decimal
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.utils import translation

from core import forms as core_forms
from core.templatetags.numbers import number

ROOT = Path(__file__).resolve().parents[2]
PROJECT_APPS = ("core", "geo", "accounts", "codelists", "facilities", "accesslog", "healthbook", "provinces")


def _project_forms() -> list[type[forms.BaseForm]]:
    for app in PROJECT_APPS:
        base = Path(apps.get_app_config(app).path)
        for path in base.rglob("forms.py"):
            importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    found, queue = [], [forms.Form, forms.ModelForm]
    while queue:
        cls = queue.pop()
        queue += cls.__subclasses__()
        if cls.__module__.split(".")[0] in PROJECT_APPS:
            found.append(cls)
    return found


def _date_fields():
    out = []
    for form_class in _project_forms():
        for name, field in form_class.base_fields.items():
            if isinstance(field, forms.DateField) and not isinstance(field, forms.DateTimeField):
                out.append((f"{form_class.__module__}.{form_class.__name__}.{name}", field))
    return out


def test_every_date_field_of_the_portal_is_a_dd_mm_yyyy_text_box():
    fields = _date_fields()
    assert len(fields) >= 5  # dashboard range, book timeline filter, code-list draft date …
    for label, field in fields:
        assert isinstance(field, core_forms.DateField), label
        assert field.widget.input_type == "text", label
        assert field.widget.attrs["placeholder"] == "dd/mm/yyyy", label


@pytest.mark.parametrize("language", ["vi", "en"])
def test_dates_parse_as_day_month_year_in_both_languages(language):
    field = core_forms.DateField()
    with translation.override(language):
        assert field.clean("03/04/2025") == dt.date(2025, 4, 3)  # 3 April, never 4 March
        assert field.clean("3/4/2025") == dt.date(2025, 4, 3)
        assert field.clean("2025-04-03") == dt.date(2025, 4, 3)  # links the portal writes
        assert field.widget.format_value(dt.date(2025, 4, 3)) == "03/04/2025"
        with pytest.raises(forms.ValidationError) as error:
            field.clean("04/31/2025")
    if language == "vi":
        assert "dd/mm/yyyy" in error.value.messages[0] and "Nhập ngày" in error.value.messages[0]


def test_no_template_uses_the_browsers_own_date_picker():
    offenders = [
        str(p.relative_to(ROOT))
        for app in PROJECT_APPS + ("templates",)
        for p in (ROOT / app).rglob("*.html")
        if 'type="date"' in p.read_text(encoding="utf-8") or "type='date'" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "language, values",
    [
        ("vi", {Decimal("1234.5"): "1.234,5", "145.07": "145,07", 1234567: "1.234.567", 12.34: "12,3"}),
        ("en", {Decimal("1234.5"): "1,234.5", "145.07": "145.07", 1234567: "1,234,567", 12.34: "12.3"}),
    ],
)
def test_one_number_format_per_language(language, values):
    with translation.override(language):
        for value, text in values.items():
            assert number(value) == text
        assert number(Decimal("100.000000")) == "100"
        assert number("âm tính") == "âm tính" and number(None) == "—"
        assert number(3.14159, 2) == ("3,14" if language == "vi" else "3.14")
