from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccesslogConfig(AppConfig):
    name = "accesslog"
    verbose_name = _("Access log")
    # What the application role may do to the log (core/dbroles.py; issue 15, T6): read and
    # append entries, read and advance the chain head — never update, delete or truncate.
    app_role_privileges = {
        "accesslog_entry": "SELECT, INSERT",
        "accesslog_chain_head": "SELECT, UPDATE",
    }
    # Appending to the log changes no other table (its triggers check the chain only): a book
    # page that logged its access may still read the book's content from a replica; only reads
    # of the log itself stay on the primary (core/replicas.py).
    replica_isolated_tables = ("accesslog_entry", "accesslog_chain_head")

    def ready(self):
        from accesslog import checks  # noqa: F401 — registers the system checks
        from accesslog.services import citizen_app_client_authenticate
        from core.authentication import CITIZEN_APP_KEYWORD, register_key_verifier

        register_key_verifier(CITIZEN_APP_KEYWORD, citizen_app_client_authenticate)
