"""`manage.py migrate`, run as the owner role (DATABASE_OWNER_URL) when one is configured.

The portal runs as DATABASE_URL, a role that owns nothing; the schema belongs to the owner. So
this command connects as the owner for the migrations (same database, the owner's user,
password, host and port), then grants the application role its privileges (core/dbroles.py),
so that whatever a migration created is usable by the application and no more. Without
DATABASE_OWNER_URL it is Django's `migrate` as is (development: one role).
"""

from contextlib import contextmanager

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS, connections

from core import dbroles

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


@contextmanager
def connected_as_owner():
    """The default connection as the owner role (DATABASE_OWNER_URL) inside the block, as the
    application role again after it. Yields the owner's settings (None: one role, nothing changes)."""
    owner = getattr(settings, "DATABASE_OWNER", None)
    if not owner:
        yield None
        return
    connection = connections[DEFAULT_DB_ALIAS]
    saved = {k: connection.settings_dict.get(k) for k in _CREDENTIALS}
    connection.close()
    connection.settings_dict.update({k: owner.get(k) for k in _CREDENTIALS})
    try:
        yield owner
    finally:
        connection.close()
        connection.settings_dict.update(saved)


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " Runs as DATABASE_OWNER_URL's role when set, then grants DATABASE_URL's role."

    def handle(self, *args, **options):
        if not getattr(settings, "DATABASE_OWNER", None) or options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        with connected_as_owner():
            super().handle(*args, **options)
            if dbroles.separated():
                with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                    dbroles.app_role_grant(cursor, dbroles.app_role())
                if options["verbosity"] >= 1:
                    self.stdout.write(f"Privileges of the application role {dbroles.app_role()!r} granted.")
