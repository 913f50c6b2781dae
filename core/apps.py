from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Installed for its translations, its OpenAPI extensions, the database-role and replica
    checks (core/replicas.py: its router and write tracking) and the `migrate` command that
    runs as the owner role; it has no models."""

    name = "core"
    verbose_name = _("Portal core")
    # The application role reads which migrations ran; only the owner role records them
    # (core/dbroles.py).
    app_role_privileges = {"django_migrations": "SELECT"}

    def ready(self) -> None:
        from django.urls import register_converter

        from core.converters import CodeConverter

        register_converter(CodeConverter, "code")
        from core import (
            authentication,  # noqa: F401 — registers the OpenAPI schemes of the API credentials
            dbroles,  # noqa: F401 — registers the checks of the two database roles
            replicas,
        )

        replicas.connect_signals()  # write tracking, only when DATABASE_REPLICA_URLS is set
