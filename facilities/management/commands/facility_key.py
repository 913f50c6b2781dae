"""Provision API keys from scripts.

    python manage.py facility_key create --facility 01001 --name "HIS server" \
        --redirect-uri https://his.example.vn/oauth/callback

prints the new key once and nothing else (so `KEY=$(python manage.py facility_key …)` works).
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from facilities.credentials import api_key_create, api_key_revoke
from facilities.models import Facility, FacilityApiKey


class Command(BaseCommand):
    help = "Create or revoke a facility API key (create prints the key once and nothing else)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it")
        create.add_argument("--facility", required=True, help="facility code (5 digits)")
        create.add_argument("--name", required=True, help="what uses the key, e.g. 'HIS production'")
        create.add_argument(
            "--redirect-uri",
            action="append",
            default=[],
            help="where doctors who allow the software to read books are sent back (repeatable)",
        )
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("--facility", required=True)
        revoke.add_argument("--prefix", required=True)

    def handle(self, *args, **options):
        try:
            facility = Facility.objects.get(code=options["facility"])
        except Facility.DoesNotExist:
            raise CommandError(f"No facility with code {options['facility']!r}.") from None
        try:
            if options["action"] == "create":
                new = api_key_create(
                    facility=facility,
                    name=options["name"],
                    acting_user=None,
                    redirect_uris="\n".join(options["redirect_uri"]),
                )
                self.stdout.write(new.key)
                expires = timezone.localtime(new.row.expires_at).strftime("%d/%m/%Y")
                self.stderr.write(f"Expires {expires} (SSKDT_API_KEY_DAYS); create its successor before then.")
            else:
                try:
                    row = facility.api_keys.get(prefix=options["prefix"])
                except FacilityApiKey.DoesNotExist:
                    raise CommandError("No key with this prefix for this facility.") from None
                api_key_revoke(api_key=row, acting_user=None)
                self.stderr.write(f"Revoked {row.prefix}.")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
