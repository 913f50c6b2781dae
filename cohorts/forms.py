"""The ministry's form for a cohort's rule: one field per criterion, turned into the criteria
JSON and checked by cohorts.criteria.validate (the one schema)."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cohorts import criteria as rules
from cohorts.models import CohortDefinition

LIST_FIELDS = {
    "diagnosis_codes": str.upper,
    "diagnosis_groups": str.strip,
    "residence_communes": str.strip,
}
NUMBER_FIELDS = ("last_visit_before_days", "follow_up_missed_days", "pregnant_no_checkup_weeks")


def _split(value: str, clean=str.strip) -> list[str]:
    return [clean(part.strip()) for part in re.split(r"[,;\s]+", value or "") if part.strip()]


class CohortForm(forms.Form):
    key = forms.SlugField(label=_("Key"), max_length=80, help_text=_("Letters, digits and dashes; never changes."))
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    diagnosis_codes = forms.CharField(
        label=_("Diagnosis codes (ICD-10 prefixes)"), required=False, help_text=_("For example: I10, E11")
    )
    diagnosis_groups = forms.CharField(
        label=_("Code groups of the ICD-10 list"), required=False, help_text=_("For example: chronic")
    )
    age_min = forms.IntegerField(label=_("Minimum age"), required=False, min_value=0, max_value=1500)
    age_max = forms.IntegerField(label=_("Maximum age"), required=False, min_value=0, max_value=1500)
    age_unit = forms.ChoiceField(
        label=_("Age unit"),
        required=False,
        choices=[("", "—"), ("year", _("years")), ("month", _("months"))],
    )
    sex = forms.TypedMultipleChoiceField(
        label=_("Sex"),
        required=False,
        coerce=int,
        choices=[(1, _("Male")), (2, _("Female")), (3, _("Undetermined"))],
        widget=forms.CheckboxSelectMultiple,
    )
    residence_communes = forms.CharField(label=_("Communes of residence (codes)"), required=False)
    last_visit_before_days = forms.IntegerField(label=_("Last visit more than N days ago"), required=False)
    follow_up_missed_days = forms.IntegerField(label=_("Follow-up appointment missed by N days"), required=False)
    vaccine = forms.CharField(label=_("Overdue vaccine (code; empty: any)"), required=False, max_length=100)
    vaccine_position = forms.IntegerField(label=_("Overdue dose (place in the series)"), required=False)
    vaccine_overdue = forms.BooleanField(label=_("A vaccine dose is overdue"), required=False)
    pregnant_no_checkup_weeks = forms.IntegerField(label=_("Pregnant, no check-up for N weeks"), required=False)
    lab_indicators = forms.CharField(label=_("Lab indicators out of range (codes; empty: any)"), required=False)
    lab_within_days = forms.IntegerField(label=_("Lab result out of range in the last N days"), required=False)

    def __init__(self, *args, definition: CohortDefinition | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.definition = definition
        if definition is not None:
            del self.fields["key"]

    @staticmethod
    def initial_from(version) -> dict:
        c = version.criteria
        initial = {"name": version.name, "description": version.description}
        for key in LIST_FIELDS:
            initial[key] = ", ".join(c.get(key) or [])
        for key in (*NUMBER_FIELDS, "age_min", "age_max", "age_unit", "sex"):
            if key in c:
                initial[key] = c[key]
        if "vaccine_overdue" in c:
            initial.update(
                vaccine_overdue=True,
                vaccine=c["vaccine_overdue"].get("vaccine") or "",
                vaccine_position=c["vaccine_overdue"].get("position"),
            )
        if "lab_out_of_range" in c:
            initial.update(
                lab_indicators=", ".join(c["lab_out_of_range"].get("indicators") or []),
                lab_within_days=c["lab_out_of_range"].get("within_days"),
            )
        return initial

    def clean_key(self):
        key = self.cleaned_data["key"]
        if CohortDefinition.objects.filter(key=key).exists():
            raise ValidationError(_("A cohort with this key exists already."))
        return key

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        criteria: dict = {}
        for key, clean in LIST_FIELDS.items():
            values = _split(data.get(key), clean)
            if values:
                criteria[key] = values
        for key in (*NUMBER_FIELDS, "age_min", "age_max"):
            if data.get(key) is not None:
                criteria[key] = data[key]
        if data.get("age_unit"):
            criteria["age_unit"] = data["age_unit"]
        if data.get("sex"):
            criteria["sex"] = sorted(data["sex"])
        if data.get("vaccine_overdue") or data.get("vaccine") or data.get("vaccine_position"):
            criteria["vaccine_overdue"] = {
                "vaccine": (data.get("vaccine") or "").strip(),
                "position": data.get("vaccine_position"),
            }
        if data.get("lab_within_days") is not None or data.get("lab_indicators"):
            criteria["lab_out_of_range"] = {
                "indicators": _split(data.get("lab_indicators")),
                "within_days": data.get("lab_within_days"),
            }
        try:
            data["criteria"] = rules.validate(criteria)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return data
