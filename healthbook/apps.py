from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthbookConfig(AppConfig):
    name = "healthbook"
    verbose_name = _("Health books")
