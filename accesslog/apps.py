from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccesslogConfig(AppConfig):
    name = "accesslog"
    verbose_name = _("Access log")

    def ready(self):
        from accesslog.services import citizen_app_client_authenticate
        from core.authentication import CITIZEN_APP_KEYWORD, register_key_verifier

        register_key_verifier(CITIZEN_APP_KEYWORD, citizen_app_client_authenticate)
