"""Demo accounts (DEBUG only): one shared password, created once and left alone afterwards.

`seed_demo` creates the national and provincial demo accounts; each app creates the demo
accounts of its own places (facilities_demo: the facility administrator and the doctors).

The password is published in the README, and the accounts include a ministry administrator, so
with DEBUG off the commands that create them refuse unless the operator names the risk with
KNOWN_PASSWORDS_FLAG (issue 15, attack 12: on a production database they would be a way in).
"""

import os

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from core.roles import Role

DEMO_PASSWORD_DEFAULT = "demo-Sskdt-2025"  # noqa: S105 — demo accounts, DEBUG only


KNOWN_PASSWORDS_FLAG = "--i-know-this-creates-known-passwords"
KNOWN_PASSWORDS_OPTION = "i_know_this_creates_known_passwords"


def add_known_passwords_flag(parser) -> None:
    """The flag a demo command needs to run with DEBUG off."""
    parser.add_argument(
        KNOWN_PASSWORDS_FLAG,
        action="store_true",
        dest=KNOWN_PASSWORDS_OPTION,
        help="Run even with DEBUG off: creates staff accounts (a ministry administrator among them) whose "
        "password is published in the README. Never on a production database.",
    )


def demo_accounts_allowed_or_refuse(options) -> None:
    """Raise CommandError when DEBUG is off and the risk was not named on the command line."""
    if settings.DEBUG or options.get(KNOWN_PASSWORDS_OPTION):
        return
    raise CommandError(
        "DEBUG is off: this command creates demo staff accounts, a ministry administrator among them, with "
        "the password published in the README. Refused. Run it with DJANGO_DEBUG=1 (`make run` does), or, "
        f"on a throwaway database only, add {KNOWN_PASSWORDS_FLAG}."
    )


def demo_password() -> str:
    return os.environ.get("SSKDT_DEMO_PASSWORD", DEMO_PASSWORD_DEFAULT)


def demo_users_ensure(rows) -> int:
    """Create the demo accounts of `rows` — (username, full name, role, province, facility) — that
    do not exist yet; return how many were created. Existing accounts are not touched. Demo
    accounts are created approved (a demo doctor's certificate number says DEMO)."""
    created = 0
    password = demo_password()
    for username, full_name, role, province, facility in rows:
        user, is_new = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "email": f"{username}@demo.invalid",
                "role": role,
                "province": province,
                "facility": facility,
                "is_demo": True,
                "approved_at": timezone.now(),
                "practising_certificate": f"DEMO/{username.upper()}"[:40] if role == Role.DOCTOR else "",
            },
        )
        if is_new:
            user.set_password(password)
            user.save(update_fields=["password"])
            created += 1
    return created


# ---------------------------------------------------------------- demo steps already applied


def demo_step_fingerprint(command: str, args: list[str]) -> str:
    """What a step runs: its command, its arguments, the source of the command's module and
    whether DEBUG is on (a changed step runs again on the next `make run`; the intake demo sends
    nothing with DEBUG off, so a later run with DEBUG on must not skip it)."""
    import hashlib
    import importlib
    from pathlib import Path

    from django.core.management import get_commands

    app = get_commands().get(command, "")
    digest = hashlib.sha256(f"{command}\0{chr(0).join(args)}\0{app}\0debug={bool(settings.DEBUG)}".encode())
    try:
        module = importlib.import_module(f"{app}.management.commands.{command}")
        digest.update(Path(module.__file__).read_bytes())
    except (ImportError, OSError, TypeError):
        pass
    return digest.hexdigest()


def demo_steps_applied() -> dict[str, str]:
    """Step name -> fingerprint of the steps that ran to the end."""
    from accounts.models import DemoStepApplied

    return dict(DemoStepApplied.objects.values_list("name", "fingerprint"))


def demo_step_record(name: str, fingerprint: str, seconds: float) -> None:
    from accounts.models import DemoStepApplied

    DemoStepApplied.objects.update_or_create(name=name, defaults={"fingerprint": fingerprint, "seconds": seconds})
