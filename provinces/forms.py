import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import DateField

DEFAULT_DAYS = 90
MAX_DAYS = 731
EARLIEST = dt.date(2020, 1, 1)


class DateRangeForm(forms.Form):
    """The date range of a dashboard's trend charts and sums (dd/mm/yyyy or ISO)."""

    start = DateField(label=_("From"), required=False)
    end = DateField(label=_("To"), required=False)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if end > today:
            self.add_error("end", _("The end date cannot be in the future."))
        if start < EARLIEST:
            self.add_error("start", _("The start date cannot be before 01/01/2020."))
        if start > end:
            self.add_error("start", _("The start date must not be after the end date."))
        elif (end - start).days + 1 > MAX_DAYS:
            self.add_error("start", _("The range can be at most 731 days."))
        data["start"], data["end"] = start, end
        return data


def date_range(params) -> tuple[DateRangeForm, dt.date, dt.date]:
    """Return the bound form and the range to show (the default range when the input is invalid)."""
    form = DateRangeForm(params or None)
    end = timezone.localdate()
    start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    elif not form.is_bound:
        form = DateRangeForm(initial={"start": start, "end": end})
    return form, start, end
