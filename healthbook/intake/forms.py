"""The reviewer's decision on a submission held for identity review."""

from django import forms
from django.utils.translation import gettext_lazy as _


class SubmissionReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("release", _("Release: it is the citizen of this health book (attach the data)")),
            ("reject", _("Reject: it is not the citizen of this health book")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
