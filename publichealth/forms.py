from django import forms
from django.utils.translation import gettext_lazy as _

from accesslog.models import PublicHealthPurpose
from geo.models import Commune


class PurposeForm(forms.Form):
    """What the officer states before a line list opens (required, recorded in every entry)."""

    commune = forms.ChoiceField(label=_("Commune"), required=False)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=[("", "---------"), *PublicHealthPurpose.choices])
    purpose_text = forms.CharField(
        label=_("What you will use the list for"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("At least a sentence. The people listed see it in their access log."),
    )

    def __init__(self, *args, province, **kwargs):
        super().__init__(*args, **kwargs)
        communes = Commune.objects.filter(province=province).order_by("name_vi").values_list("code", "name_vi")
        self.fields["commune"].choices = [("", _("The whole province")), *communes]
