"""The ministry's trust anchors: the certification authorities whose certificates may sign data.

    python manage.py ca_trust add --pem vnpt-ca.pem     # PEM (one or several CA certificates) or DER
    python manage.py ca_trust list
    python manage.py ca_trust remove --fingerprint AB:CD:…   # SHA-256, with or without colons

A facility's signing certificate is registered only when it chains to an anchor
(facilities/certificates.py). Removing an anchor stops trusting, at once, every certificate
that chained to it; the row is kept (with its removal time) for the record, and adding the same
certificate again restores it. Each change is an audit record.
"""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from facilities.certificates import MAX_CERT_BYTES, trust_anchor_add, trust_anchor_find, trust_anchor_remove
from facilities.models import TrustAnchor


class Command(BaseCommand):
    help = "Manage the certification authorities (trust anchors) facility certificates must chain to."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="trust the CA certificate(s) of a file")
        add.add_argument("--pem", required=True, help="path of the CA certificate file (PEM or DER)")
        sub.add_parser("list", help="list the anchors (removed ones too)")
        remove = sub.add_parser("remove", help="stop trusting an anchor")
        remove.add_argument("--fingerprint", required=True, help="SHA-256 fingerprint of the anchor")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _add(self, pem, **options):
        path = Path(pem)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if path.stat().st_size > MAX_CERT_BYTES:
            raise CommandError("The file is too large for a certificate (at most 64 KB).")
        try:
            anchors = trust_anchor_add(pem=path.read_bytes(), acting_user=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        for anchor in anchors:
            self.stdout.write(
                f"trusted  {anchor.fingerprint_sha256}  {anchor.subject}  until {anchor.not_after:%Y-%m-%d}"
            )

    def _list(self, **options):
        anchors = list(TrustAnchor.objects.order_by("removed_at", "subject"))
        if not anchors:
            self.stdout.write("No trust anchor: no facility certificate can be registered (see ca_trust add).")
        for a in anchors:
            state = f"removed {a.removed_at:%Y-%m-%d %H:%M}" if a.removed_at else "trusted"
            self.stdout.write(
                f"{state:<24} {a.fingerprint_sha256}  {a.subject}  "
                f"{a.not_before:%Y-%m-%d} – {a.not_after:%Y-%m-%d}  certificates: {a.certificates.count()}"
            )

    def _remove(self, fingerprint, **options):
        anchor = trust_anchor_find(fingerprint)
        if anchor is None:
            raise CommandError(f"No trust anchor with fingerprint {fingerprint!r}.")
        trust_anchor_remove(anchor=anchor, acting_user=None)
        self.stdout.write(
            f"removed  {anchor.fingerprint_sha256}  {anchor.subject}: "
            f"{anchor.certificates.count()} facility certificate(s) no longer trusted"
        )
