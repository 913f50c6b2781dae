from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.access import creatable_roles, staff_facilities_for
from core.roles import PROVINCE_BOUND_ROLES, Role
from geo.access import provinces_visible_to


class StaffCreateForm(forms.Form):
    """New staff account. Choices are limited to the acting user's scope; the service checks again."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("Use letters, digits and @ . + - _ only.")},
    )
    email = forms.EmailField(label=_("Email"), help_text=_("A link to set the password is sent here."))
    role = forms.ChoiceField(label=_("Role"))
    province = forms.ModelChoiceField(label=_("Province"), queryset=None, required=False)
    facility = forms.ModelChoiceField(label=_("Facility"), queryset=None, required=False)
    practising_certificate = forms.CharField(
        label=_("Practising certificate number"),
        max_length=40,
        required=False,
        help_text=_(
            "For a doctor: the number of the practising certificate, e.g. 000123/HNO-CCHN. The provincial health "
            "department checks it against its register before the account works."
        ),
    )

    def __init__(self, *args, acting_user, **kwargs):
        super().__init__(*args, **kwargs)
        roles = creatable_roles(acting_user)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]
        self.fields["province"].queryset = provinces_visible_to(acting_user)
        self.fields["facility"].queryset = staff_facilities_for(acting_user).select_related("province")
        if not set(PROVINCE_BOUND_ROLES) & set(roles):
            del self.fields["province"]
        if acting_user.role != Role.PROVINCE_OFFICER:
            del self.fields["facility"]
        if Role.DOCTOR not in roles:
            del self.fields["practising_certificate"]

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if role == Role.PROVINCE_OFFICER and not data.get("province"):
            self.add_error("province", _("A provincial officer needs a province."))
        if role == Role.PUBLIC_HEALTH_OFFICER and not data.get("province"):
            self.add_error("province", _("A public-health officer needs a province."))
        if role == Role.FACILITY_ADMIN and "facility" in self.fields and not data.get("facility"):
            self.add_error("facility", _("A facility administrator needs a facility."))
        if role == Role.DOCTOR and not data.get("practising_certificate"):
            self.add_error("practising_certificate", _("A doctor needs a practising certificate number."))
        return data


class StaffApproveForm(forms.Form):
    """The approver's check: for a doctor, the certificate number as found in the register."""

    practising_certificate = forms.CharField(
        label=_("Practising certificate number (from your register)"), max_length=40, required=False
    )


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Deactivated"))],
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=[("vi", "Tiếng Việt"), ("en", "English")])
