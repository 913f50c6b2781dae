"""OpenAPI description of the citizen app's credential (imported by AccesslogConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CitizenAppKeyScheme(OpenApiAuthenticationExtension):
    target_class = "healthbook.book_api.CitizenAppKeyAuthentication"
    name = "CitizenAppKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The citizen app (VNeID): `Citizen-App-Key <key>`; reads access logs only "
            "(keys from `manage.py citizen_app_client`).",
        }
