"""Two database roles: the owner, which migrates, and the application, which only reads and writes.

`DATABASE_URL` is the role the portal runs as; `DATABASE_OWNER_URL` the role that owns the
schema and runs the migrations (`manage.py migrate` switches to it: core/management/commands/
migrate.py). After each migration the owner grants the application role what it needs and
nothing more:

- SELECT, INSERT, UPDATE, DELETE on every table and view of the schema (no TRUNCATE, no
  REFERENCES, no TRIGGER) and USAGE on the sequences, now and, through default privileges, on
  the tables the owner creates later (the cache table);
- less where an app says so: an AppConfig may declare `app_role_privileges = {table: "SELECT,
  INSERT"}` — the access log's entries may only be read and appended, its chain head read and
  advanced (accesslog/apps.py).

The application role owns nothing, so PostgreSQL refuses it every ALTER, DROP, trigger switch
or ownership change; the append-only triggers then hold against it (issue 15, T6). Neither may
the application role own the database (the owner of a database owns its `public` schema and
could drop any table in it) nor be a member of the owner role.

Without `DATABASE_OWNER_URL` (development) one role does everything: the system checks say so
at start (a warning) and `check --deploy` fails (an error).
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core import checks

TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"


def app_role() -> str:
    """The role the application runs as (the user of DATABASE_URL)."""
    return settings.SSKDT_DATABASE_APP_ROLE


def owner_role() -> str | None:
    owner = getattr(settings, "DATABASE_OWNER", None)
    return owner["USER"] if owner else None


def separated() -> bool:
    owner = owner_role()
    return bool(owner) and owner != app_role()


def restricted_tables() -> dict[str, str]:
    """{table: privileges} declared by the apps (AppConfig.app_role_privileges)."""
    out: dict[str, str] = {}
    for config in apps.get_app_configs():
        out.update(getattr(config, "app_role_privileges", {}) or {})
    return out


def _qn(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def app_role_grant(cursor, role: str, *, schema: str = "public") -> None:
    """Grant `role` what the application needs in `schema` (run as the owner; idempotent)."""
    r, s = _qn(role), _qn(schema)
    statements = [
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
        f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT {TABLE_PRIVILEGES} ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {r}",
    ]
    for table, privileges in restricted_tables().items():
        t = f"{s}.{_qn(table)}"
        statements += [f"REVOKE ALL ON {t} FROM {r}", f"GRANT {privileges} ON {t} TO {r}"]
    cursor.execute("; ".join(statements))


# --- system checks -----------------------------------------------------------------------------

_HINT = (
    "Set DATABASE_OWNER_URL to the role that owns the schema and runs the migrations, and "
    "DATABASE_URL to a role that owns nothing (README, 'Production': the two database roles)."
)


@checks.register(checks.Tags.database, checks.Tags.security)
def check_database_roles(app_configs=None, **kwargs):
    """At every start (runserver prints it): one role does everything in development."""
    if separated():
        return []
    if owner_role() == app_role():
        msg = "DATABASE_OWNER_URL and DATABASE_URL name the same role"
    else:
        msg = "DATABASE_OWNER_URL is not set"
    return [
        checks.Warning(
            f"{msg}: the application's database role owns the access log, so it could switch off the "
            "append-only triggers (acceptable in development only).",
            hint=_HINT,
            id="sskdt.W001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_database_roles_deploy(app_configs=None, **kwargs):
    """`check --deploy` fails without two distinct roles on the same database."""
    if separated():
        owner, default = settings.DATABASE_OWNER, settings.DATABASES["default"]
        if any(owner.get(k) != default.get(k) for k in ("NAME", "HOST", "PORT")):
            return [
                checks.Error(
                    "DATABASE_OWNER_URL and DATABASE_URL must name the same database (name, host, port).",
                    hint=_HINT,
                    id="sskdt.E002",
                )
            ]
        return []
    return [
        checks.Error(
            "Production needs two database roles: DATABASE_OWNER_URL (owner, migrations) and DATABASE_URL "
            "(the application, owning nothing); they are missing or the same.",
            hint=_HINT,
            id="sskdt.E001",
        )
    ]
