"""Prepare the fake VNeID platform of `make run` (citizenapi/fakevneid.py): its own Ed25519 key
pair under var/fake-vneid/ (made once, the private key readable by its owner only), the public
key registered through `citizen_platform_key add`, and var/fake-vneid/config.json naming the
portal, the audience and the demo citizens it may sign in as (the adults with the most visits
and a few children under 14, for a parent's view). Development only: refused with DEBUG off.
"""

import datetime as dt
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from citizenapi.auth import CHILD_AGE_LIMIT
from healthbook.models import Citizen

KID = "fake-vneid-1"
NAME = "VNeID (giả lập)"


def _key_pair(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / "key.pem", folder / "pub.pem"
    if not private.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        public.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    return public


def _people(qs, limit: int) -> list[dict]:
    return [{"pid": pid, "name": name} for pid, name in qs.values_list("personal_id", "full_name")[:limit]]


class Command(BaseCommand):
    help = "Make the fake VNeID platform's key pair, register it and list the demo citizens it signs in as."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8010", help="where the fake platform listens")
        parser.add_argument("--portal", default="http://127.0.0.1:8000", help="the portal's base URL")

    def handle(self, *args, url, portal, **options):
        if not settings.DEBUG:
            raise CommandError("The fake VNeID platform is for development only (DEBUG is off).")
        folder = Path(settings.VAR_DIR) / "fake-vneid"
        public = _key_pair(folder)
        call_command("citizen_platform_key", "add", "--issuer", url, "--name", NAME, "--pem", str(public), "--kid", KID)
        today = timezone.localdate()
        with_pid = Citizen.objects.filter(personal_id__isnull=False, book__isnull=False)
        adults = (
            with_pid.filter(birth_date__lte=today - relativedelta(years=18))
            .annotate(visits=Count("book__encounters"))
            .order_by("-visits", "pk")
        )
        children = with_pid.filter(birth_date__gt=today - relativedelta(years=CHILD_AGE_LIMIT)).order_by("-birth_date")
        config = {
            "issuer": url,
            "kid": KID,
            "audience": settings.SSKDT_CITIZEN_TOKEN_AUDIENCE,
            "portal": portal.rstrip("/"),
            "key": str(folder / "key.pem"),
            "citizens": _people(adults, 8),
            "children": _people(children, 3),
            "written_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        (folder / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=1))
        self.stdout.write(f"fake VNeID: {len(config['citizens'])} citizens, {len(config['children'])} children")
