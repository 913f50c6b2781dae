"""Set up the two database roles on one database, as a superuser (used by `make run`, `.ci/run`).

    python -m config.dbroles --admin-url postgres://postgres@127.0.0.1:5432/sskdt_ci \\
        --owner sskdt_owner --app sskdt_app

- the **owner** role (LOGIN, CREATEDB so that it can create the test database) owns the
  database, so its `public` schema, and every table, view, sequence and function in that schema
  (objects owned by another role, e.g. created earlier by a superuser, are handed over); it is
  a member of the application role (so that tests may `SET ROLE` to it), never the reverse;
- the **application** role (LOGIN) owns nothing and may not create anything; its privileges
  are granted by `manage.py migrate` (core/dbroles.py) once the owner has migrated.

Roles are created without passwords: the local clusters of `make run` and CI trust local
connections. In production a DBA creates them with passwords (README, "Production").
Idempotent: run it before every `migrate`.

Run it on the primary only: a streaming replica is a copy of the primary's cluster, roles and
grants included, so DATABASE_REPLICA_URLS name the same application role and nothing is set up
on a replica (core/replicas.py; check sskdt.E010 refuses another user).
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit, urlunsplit

ADOPT = """
DO $adopt$
DECLARE
    owner_oid oid := (SELECT oid FROM pg_roles WHERE rolname = {owner});
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relowner <> owner_oid
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', r.kind, r.name, {owner});
    END LOOP;
    FOR r IN
        SELECT c.oid::regclass AS name
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'S' AND c.relowner <> owner_oid
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', r.name, {owner});
    END LOOP;
    FOR r IN
        SELECT p.oid::regprocedure AS name
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner <> owner_oid
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.name, {owner});
    END LOOP;
END
$adopt$;
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _role(name: str, options: str) -> str:
    literal = name.replace("'", "''")
    return (
        f"DO $r$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{literal}') THEN "  # noqa: S608
        f"CREATE ROLE {_ident(name)} {options}; END IF; END $r$"
    )


def setup(admin_url: str, *, owner: str, app: str) -> None:
    """Create/adjust both roles and hand the database to the owner (connected as a superuser to
    the database itself)."""
    import psycopg

    if owner == app:
        raise SystemExit("the owner and the application role must differ")
    database = urlsplit(admin_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        if not superuser:
            raise SystemExit("config.dbroles needs a superuser connection (--admin-url)")
        conn.execute(_role(app, "LOGIN"))
        conn.execute(f"ALTER ROLE {_ident(app)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
        owner_is_super = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [owner]).fetchone()
        if not (owner_is_super and owner_is_super[0]):
            conn.execute(_role(owner, "LOGIN CREATEDB"))
            conn.execute(f"ALTER ROLE {_ident(owner)} LOGIN CREATEDB NOSUPERUSER")
        member = conn.execute(
            "SELECT pg_has_role(%s, %s, 'MEMBER'), pg_has_role(%s, %s, 'MEMBER')", [app, owner, owner, app]
        ).fetchone()
        if member[0]:
            conn.execute(f"REVOKE {_ident(owner)} FROM {_ident(app)}")
        if not member[1]:
            conn.execute(f"GRANT {_ident(app)} TO {_ident(owner)}")
        conn.execute(f"ALTER DATABASE {_ident(database)} OWNER TO {_ident(owner)}")
        conn.execute(f"REVOKE CREATE ON SCHEMA public FROM {_ident(app)}")
        conn.execute(ADOPT.replace("{owner}", "'" + owner.replace("'", "''") + "'"))


def role_url(url: str, role: str) -> str:
    """`url` with its user replaced by `role` (no password: local trust)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", required=True, help="a superuser's URL of the database")
    parser.add_argument("--owner", default="sskdt_owner")
    parser.add_argument("--app", default="sskdt_app")
    args = parser.parse_args(argv)
    setup(args.admin_url, owner=args.owner, app=args.app)
    print(f"DATABASE_URL={role_url(args.admin_url, args.app)}")
    print(f"DATABASE_OWNER_URL={role_url(args.admin_url, args.owner)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
