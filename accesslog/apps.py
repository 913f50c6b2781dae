from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccesslogConfig(AppConfig):
    name = "accesslog"
    verbose_name = _("Access log")

    def ready(self):
        from accesslog import schema  # noqa: F401 — registers the OpenAPI scheme of the citizen app key
