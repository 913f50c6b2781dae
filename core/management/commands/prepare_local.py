"""`make run`'s preparation in one process (config/localdev.py): one Django start instead of
three, and no work already done.

1. migrate — only when a migration is pending (as the owner role: core's migrate);
2. the cache table — only when it is missing (as the owner role: the owner's default privileges
   grant it to the application role);
3. the demo data (seed_demo: steps already applied are skipped, the rollups compute only the
   days not computed yet).

Each step's time is printed, as the launcher prints its own. The system checks run here (before
the steps), so the launcher starts the web server with --skip-checks.
"""

import time
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from core.management.commands.migrate import connected_as_owner


def migrations_pending() -> int:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def cache_tables_missing() -> list[str]:
    wanted = [c["LOCATION"] for c in settings.CACHES.values() if c["BACKEND"].endswith("DatabaseCache")]
    if not wanted:
        return []
    existing = set(connections[DEFAULT_DB_ALIAS].introspection.table_names())
    return [t for t in wanted if t not in existing]


class Command(BaseCommand):
    help = "Migrate when needed, create the cache table when missing, load the demo data (make run)."

    @contextmanager
    def _step(self, name: str):
        started = time.monotonic()
        yield
        self.stdout.write(f"[make run] {name}: {time.monotonic() - started:.1f} s", ending="\n")
        self.stdout.flush()

    def handle(self, *args, **options):
        with self._step("migrate"):
            pending = migrations_pending()
            if pending:
                call_command("migrate", "--no-input")
            else:
                self.stdout.write("No migration to apply.")
        with self._step("cache table"):
            if cache_tables_missing():
                with connected_as_owner():
                    call_command("createcachetable")
        with self._step("demo data"):
            call_command("seed_demo")
