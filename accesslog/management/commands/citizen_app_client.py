"""`manage.py citizen_app_client NAME`: issue a key for the citizen app (printed once)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accesslog.services import citizen_app_client_create


class Command(BaseCommand):
    help = "Create a citizen-app API client and print its key once (it reads access logs only)."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, **options):
        try:
            row, key = citizen_app_client_create(name=options["name"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"client {row.name} ({row.prefix}); key (shown once):\n{key}")
