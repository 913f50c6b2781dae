from django import forms
from django.utils.translation import gettext_lazy as _

from facilities.models import Facility, FacilityStatus, Level, Ownership
from facilities.services import PROFILE_FIELDS
from facilities.validators import tax_code_normalize
from geo.models import Commune, Province


def _blank(choices, label):
    return [("", label), *choices]


class FacilityFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    province = forms.ChoiceField(label=_("Province"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(FacilityStatus.choices, _("All statuses"))
    )
    ownership = forms.ChoiceField(
        label=_("Ownership"), required=False, choices=_blank(Ownership.choices, _("Public and private"))
    )
    level = forms.ChoiceField(label=_("Level"), required=False, choices=_blank(Level.choices, _("All levels")))
    silent = forms.ChoiceField(
        label=_("Sending data"),
        required=False,
        choices=[("", _("All")), ("1", _("Silent only")), ("0", _("Not silent"))],
    )

    def __init__(self, *args, provinces=None, **kwargs):
        super().__init__(*args, **kwargs)
        provinces = provinces if provinces is not None else Province.objects.none()
        self.fields["province"].choices = _blank([(p.code, p.name_vi) for p in provinces], _("All provinces"))

    def filters(self) -> dict | None:
        """The filters to apply, or None when a value is not one the user may choose
        (e.g. another province): then the list is empty rather than unfiltered."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        return {k: v for k, v in self.cleaned_data.items() if v}


class CommuneChoiceField(forms.ModelChoiceField):
    """A commune of the list (geo.Commune), shown with its kind's name as the list writes it."""

    def label_from_instance(self, obj):
        return f"{obj.name_vi} ({obj.code})"


class FacilityProfileForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("commune_unit")
        if field is not None:
            # Only the communes of the facility's province (about 100, not 3,321).
            province_id = self.instance.province_id if self.instance and self.instance.pk else None
            field.queryset = (
                Commune.objects.filter(province_id=province_id).order_by("name_vi")
                if province_id
                else Commune.objects.none()
            )

    class Meta:
        model = Facility
        fields = list(PROFILE_FIELDS)
        field_classes = {"commune_unit": CommuneChoiceField}
        widgets = {
            "ownership": forms.Select(),
            "level": forms.Select(),
            "has_insurance_contract": forms.CheckboxInput(),
        }

    def clean_tax_code(self):
        return tax_code_normalize(self.cleaned_data.get("tax_code") or "")


class FacilityRegisterForm(FacilityProfileForm):
    code = forms.RegexField(
        label=_("Facility code"),
        regex=r"^[0-9]{5}$",
        max_length=5,
        help_text=_("Five digits issued by Vietnam Social Security; the first two are the (old) province code."),
        error_messages={"invalid": _("The facility code must be exactly 5 digits.")},
    )
    province = forms.ModelChoiceField(label=_("Province"), queryset=Province.objects.none(), empty_label=None)

    class Meta(FacilityProfileForm.Meta):
        fields = ["code", "province", *PROFILE_FIELDS]

    def __init__(self, *args, provinces=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["province"].queryset = provinces if provinces is not None else Province.objects.none()
        # The communes of the provinces the user may register in; the model checks the pair.
        self.fields["commune_unit"].queryset = (
            Commune.objects.filter(province__in=provinces).order_by("province__code", "name_vi")
            if provinces is not None
            else Commune.objects.none()
        )

    def _post_clean(self):
        # Scope and the code rule are checked by the service, against the user's province.
        pass


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionConfirmForm(forms.Form):
    """Approving, suspending or closing a facility: why, and a deliberate confirmation."""

    reason = forms.CharField(
        label=_("Why (recorded in the facility's history)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        error_messages={"required": _("Say why; it is recorded with your name.")},
    )
    confirm = forms.BooleanField(
        label=_("I confirm this decision."),
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        error_messages={"required": _("Tick the box to confirm the decision.")},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_reason(self):
        return self.cleaned_data["reason"].strip()


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Key name"),
        max_length=100,
        help_text=_("Which software or server uses it, e.g. “HIS production server”."),
    )
    redirect_uris = forms.CharField(
        label=_("Sign-in return addresses"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Needed for the software to read health books: where the portal sends a doctor back after the doctor "
            "signs in and allows the software (one https address per line, or http on 127.0.0.1 for software on "
            "the doctor's computer). The key alone can send data but read no book."
        ),
    )


class CertificateUploadForm(forms.Form):
    pem = forms.FileField(
        label=_("Certificate file (PEM or DER)"),
        help_text=_(
            "The certificate issued by a licensed certification authority, as .pem/.crt (followed by the "
            "CA's intermediate certificates, if any) or .cer/.der. It must name the facility's code or tax code."
        ),
    )


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (CSV or XLSX)"))
