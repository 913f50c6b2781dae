"""Dates typed the same way on every form: dd/mm/yyyy, whatever the browser's language (issue 18).

A browser's own date picker (`<input type="date">`) shows mm/dd/yyyy to a browser set to US
English and dd/mm/yyyy to one set to Vietnamese, so the portal never uses it: every date field
is a text box with the placeholder "dd/mm/yyyy", a pattern the browser checks, and Django's
DATE_INPUT_FORMATS (config/formats: dd/mm/yyyy first, ISO yyyy-mm-dd still read for links and
old bookmarks) to parse it. Use `DateField` (or `DateInput` as the widget of a model form).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_PLACEHOLDER = "dd/mm/yyyy"
# Day/month/year (1 or 2 digit day and month), or ISO for links written by the portal itself.
DATE_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}"


class DateInput(forms.DateInput):
    """A text box for a date shown and typed as dd/mm/yyyy."""

    input_type = "text"

    def __init__(self, attrs=None):
        defaults = {
            "placeholder": DATE_PLACEHOLDER,
            "pattern": DATE_PATTERN,
            "inputmode": "numeric",
            "autocomplete": "off",
            "maxlength": "10",
            "class": "form-control",
            "data-date-input": "dmy",
        }
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%d/%m/%Y")


class DateField(forms.DateField):
    """A date typed as dd/mm/yyyy (the active language's DATE_INPUT_FORMATS), with a Vietnamese
    message that shows the expected form."""

    widget = DateInput
    default_error_messages = {"invalid": _("Enter the date as dd/mm/yyyy, for example 31/12/2025.")}
