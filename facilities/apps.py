from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = _("Facilities")

    def ready(self):
        from core.authentication import BEARER_KEYWORD, FACILITY_KEYWORD, register_key_verifier
        from facilities.credentials import api_key_authenticate
        from facilities.software_grants import practitioner_token_authenticate

        register_key_verifier(FACILITY_KEYWORD, api_key_authenticate)
        register_key_verifier(BEARER_KEYWORD, practitioner_token_authenticate)

        from codelists.fhir import capability_register

        for resource in ("Organization", "Location"):
            capability_register({"type": resource, "interaction": [{"code": "read"}]})
