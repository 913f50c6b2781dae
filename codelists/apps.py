from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodelistsConfig(AppConfig):
    name = "codelists"
    verbose_name = _("Code lists")

    def ready(self) -> None:
        from celery.signals import task_prerun
        from django.core.signals import request_started
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save

        from codelists import in_force
        from codelists.models import CodeSystem, CodeSystemVersion

        # Which version is in force: every process forgets its cache when a version changes
        # (codelists/in_force.py explains how).
        connection_created.connect(in_force.connection_listen, dispatch_uid="codelists-listen")
        request_started.connect(in_force.forget_unless_listening, dispatch_uid="codelists-request")
        task_prerun.connect(in_force.forget_unless_listening, dispatch_uid="codelists-task", weak=False)
        for model in (CodeSystem, CodeSystemVersion):
            post_save.connect(in_force.version_changed, sender=model, dispatch_uid=f"codelists-save-{model.__name__}")
            post_delete.connect(in_force.version_changed, sender=model, dispatch_uid=f"codelists-del-{model.__name__}")
