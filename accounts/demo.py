"""Demo accounts (DEBUG only): one shared password, created once and left alone afterwards.

`seed_demo` creates the national and provincial demo accounts; each app creates the demo
accounts of its own places (facilities_demo: the facility administrator and the doctors).
"""

import os

from django.utils import timezone

from accounts.models import User
from core.roles import Role

DEMO_PASSWORD_DEFAULT = "demo-Sskdt-2025"  # noqa: S105 — demo accounts, DEBUG only


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
