"""OpenAPI description of the facility API-key authentication (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class FacilityApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "facilities.authentication.FacilityApiKeyAuthentication"
    name = "FacilityApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Facility software: `Api-Key <key>` (keys are issued on the facility's credentials page).",
        }
