"""Register (or revoke) a signing key of the citizen platform (VNeID), like the facilities'
signing certificates (`facility_cert`):

python manage.py citizen_platform_key add --issuer https://vneid.gov.vn --name VNeID --pem platform.pub.pem
python manage.py citizen_platform_key revoke --kid <kid>
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from citizenapi.services import MAX_KEY_BYTES, platform_key_register, platform_key_revoke


class Command(BaseCommand):
    help = "Register an Ed25519 public key (PEM) of the citizen platform, or revoke one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="register a public key")
        add.add_argument("--issuer", required=True, help="the iss claim of the platform's tokens")
        add.add_argument("--name", default="", help="the platform's name (first registration)")
        add.add_argument("--pem", required=True, help="path of the public key (PEM, Ed25519)")
        add.add_argument("--kid", default="", help="key id its tokens name (default: from the fingerprint)")
        revoke = sub.add_parser("revoke", help="revoke a key")
        revoke.add_argument("--kid", required=True)

    def handle(self, *args, **options):
        try:
            if options["action"] == "revoke":
                row = platform_key_revoke(kid=options["kid"])
                self.stdout.write(f"revoked {row.kid}")
                return
            path = Path(options["pem"])
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
            if path.stat().st_size > MAX_KEY_BYTES:
                raise CommandError("The file is too large for a public key.")
            row = platform_key_register(
                issuer=options["issuer"], name=options["name"], pem=path.read_bytes(), kid=options["kid"]
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"{row.kid}  {row.fingerprint_sha256}  {row.client.issuer}")
