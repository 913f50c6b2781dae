from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Installed for its translations and its OpenAPI extensions; it has no models."""

    name = "core"
    verbose_name = _("Portal core")

    def ready(self) -> None:
        from core import authentication  # noqa: F401 — registers the OpenAPI schemes of the API credentials
