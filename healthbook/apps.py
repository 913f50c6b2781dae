from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthbookConfig(AppConfig):
    name = "healthbook"
    verbose_name = _("Health books")

    def ready(self):
        from codelists.fhir import capability_register
        from codelists.impact import register_code_usage_source
        from core.notify import notification_requested
        from healthbook.book.fhir_record import SERVED_TYPES
        from healthbook.intake.code_usage import code_usage
        from healthbook.notifications.services import on_notification_requested

        # Messages asked for by apps below the health book (emergency grants): into the outbox.
        notification_requested.connect(on_notification_requested, dispatch_uid="healthbook-outbox")

        # The retired-code impact report asks the book who still sends a code (issue 17, point 7).
        register_code_usage_source(code_usage)

        capability_register(
            {
                "type": "Patient",
                "operation": [
                    {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}
                ],
            }
        )
        for resource in SERVED_TYPES:  # served inside the $everything Bundle, not read on their own
            capability_register({"type": resource, "documentation": "Returned by Patient/$everything."})
