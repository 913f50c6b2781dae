from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HealthbookConfig(AppConfig):
    name = "healthbook"
    verbose_name = _("Health books")

    def ready(self):
        from codelists.fhir import capability_register
        from core.notify import notification_requested
        from healthbook.notifications.services import on_notification_requested

        # Messages asked for by apps below the health book (emergency grants): into the outbox.
        notification_requested.connect(on_notification_requested, dispatch_uid="healthbook-outbox")
        from healthbook.book.fhir_record import SERVED_TYPES

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
