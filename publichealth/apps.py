from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublichealthConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "publichealth"
    verbose_name = _("Public-health line lists")
