"""Register a facility signing certificate from a PEM or DER file (the same rules as the
credentials page: it must chain to a trust anchor, see `ca_trust`).

python manage.py facility_cert add --facility 01001 --pem cert.pem
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from facilities.certificates import MAX_CERT_BYTES, certificate_add
from facilities.models import Facility


class Command(BaseCommand):
    help = "Add a signing certificate (X.509, PEM or DER) to a facility."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a certificate")
        add.add_argument("--facility", required=True, help="facility code (5 digits)")
        add.add_argument("--pem", required=True, help="path of the certificate file (PEM or DER)")

    def handle(self, *args, **options):
        try:
            facility = Facility.objects.get(code=options["facility"])
        except Facility.DoesNotExist:
            raise CommandError(f"No facility with code {options['facility']!r}.") from None
        path = Path(options["pem"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > MAX_CERT_BYTES:
            raise CommandError("The file is too large for a certificate (at most 64 KB).")
        try:
            cert = certificate_add(facility=facility, pem=path.read_bytes(), acting_user=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            f"{cert.fingerprint_sha256}  {cert.subject}  valid {cert.not_before:%Y-%m-%d} – {cert.not_after:%Y-%m-%d}"
        )
