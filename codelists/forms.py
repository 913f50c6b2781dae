import json

from django import forms
from django.utils.translation import gettext_lazy as _

from codelists.models import CODE_MAX_LENGTH
from core.forms import DateField


class StyledForm(forms.Form):
    """Bootstrap classes and aria-invalid on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control"
            if isinstance(field.widget, forms.Select):
                css = "form-select"
            field.widget.attrs.setdefault("class", css)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}-errors"
                self.fields[name].widget.attrs["class"] += " is-invalid"


class DraftStartForm(StyledForm):
    label = forms.CharField(
        label=_("Version label"),
        max_length=120,
        help_text=_("For example the decision that issues it: QĐ 1234/QĐ-BYT (2026)."),
    )
    effective_from = DateField(label=_("In force from"), required=False)
    change_note = forms.CharField(label=_("Change note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ConceptForm(StyledForm):
    code = forms.CharField(label=_("Code"), max_length=CODE_MAX_LENGTH)
    display_vi = forms.CharField(label=_("Vietnamese display"), max_length=500)
    display_en = forms.CharField(label=_("English display"), max_length=500, required=False)
    parent_code = forms.CharField(label=_("Parent code"), max_length=CODE_MAX_LENGTH, required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    properties = forms.CharField(
        label=_("Properties (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_('A JSON object, e.g. {"unit": "mmol/L", "ref_low": 3.9, "ref_high": 6.4}.'),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True

    def clean_properties(self):
        raw = (self.cleaned_data.get("properties") or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("This is not valid JSON: %(error)s") % {"error": exc.msg}) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Properties must be a JSON object."))
        return value

    def clean_code(self):
        return (self.cleaned_data.get("code") or "").strip()

    def clean_parent_code(self):
        return (self.cleaned_data.get("parent_code") or "").strip()


class SendBackForm(StyledForm):
    comment = forms.CharField(label=_("What must change"), widget=forms.Textarea(attrs={"rows": 3}))


class ImportForm(StyledForm):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("Columns: code, display_vi, display_en, parent_code, active, properties."),
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Code or text"), required=False, max_length=200)
    active = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), ("1", _("Active")), ("0", _("Retired"))]
    )
