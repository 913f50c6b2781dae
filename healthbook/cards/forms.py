from django import forms
from django.utils.translation import gettext_lazy as _


class CardBatchUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Card file (CSV or XLSX)"),
        help_text=_("UTF-8 CSV (comma or semicolon) or XLSX; see the file format in the documentation."),
    )


# The navigation entry (accounts/navigation.py) uses this msgid; it is translated in this app's catalog.
NAV_LABEL = _("Card imports")
