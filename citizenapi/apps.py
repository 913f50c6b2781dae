from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizenapiConfig(AppConfig):
    name = "citizenapi"
    verbose_name = _("Citizen API (VNeID)")
