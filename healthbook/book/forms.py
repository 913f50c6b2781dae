"""Forms of the doctor's pages: citizen search, timeline filters, emergency access."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accesslog.models import EmergencyReason
from core.forms import DateField
from geo.models import Province
from healthbook.book.selectors import TIMELINE_KINDS

KIND_LABELS = {
    "visit": _("Visits"),
    "checkin": _("Check-ins"),
    "lab": _("Lab results"),
    "prescription": _("Prescriptions"),
    "vaccination": _("Vaccinations"),
    "pregnancy": _("Pregnancy check-ups"),
    "certificate": _("Certificates"),
}


class CitizenSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Personal ID, social insurance number, card number or name"),
        max_length=100,
        help_text=_("A name may be typed without diacritics, e.g. “nguyen van an”."),
    )
    birth_year = forms.IntegerField(label=_("Year of birth"), required=False, min_value=1900)
    province = forms.ModelChoiceField(
        label=_("Province of residence"), queryset=Province.objects.none(), required=False, to_field_name="code"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = Province.objects.order_by("code")
        self.fields["province"].empty_label = _("All provinces")

    def clean_birth_year(self):
        year = self.cleaned_data.get("birth_year")
        if year and year > timezone.localdate().year:
            raise forms.ValidationError(_("The year of birth cannot be in the future."))
        return year

    def clean_q(self):
        value = " ".join((self.cleaned_data.get("q") or "").replace("\x00", "").split())
        if len(value) < 3:
            raise forms.ValidationError(_("Type at least 3 characters."))
        return value


class TimelineFilterForm(forms.Form):
    kind = forms.MultipleChoiceField(
        label=_("Kind"),
        required=False,
        choices=[(k, KIND_LABELS[k]) for k in TIMELINE_KINDS],
        widget=forms.CheckboxSelectMultiple,
    )
    facility = forms.CharField(label=_("Facility"), required=False, max_length=5)
    date_from = DateField(label=_("From"), required=False)
    date_to = DateField(label=_("To"), required=False)


class EmergencyAccessForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "—"), *EmergencyReason.choices])
    reason_text = forms.CharField(
        label=_("Explanation"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == EmergencyReason.OTHER and not (data.get("reason_text") or "").strip():
            self.add_error("reason_text", _("Explain the reason when you choose “Other”."))
        return data


class ShareCodeForm(forms.Form):
    """The share code a citizen gave the doctor's facility (shown in the VNeID app, ABCD-EFGH)."""

    code = forms.CharField(
        label=_("Share code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
