"""The world the generated checks run in: two provinces, every role, canaries and hostile names.

Province 01 (Hà Nội) holds the actors; province 79 (TP. Hồ Chí Minh) and facility A2 hold the
objects they must not see. Every such object carries a *canary*: a unique string in its personal
fields. A canary found in a response to an actor whose scope excludes it is a leak, whatever the
status code (S6, S7).

Later capabilities extend the world without editing this file's logic: append a function to
SEEDERS that creates their objects (citizens, batches, code lists …) in both provinces, registers
canaries with `world.canary(...)`, hostile strings with the XSS payloads, and path-parameter
providers with `world.provide(...)` (see url_rules.PARAMS).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.models import MINISTRY_ROLES, Role
from tests import factories as f
from tests.conftest import enrol_totp

# Stored-XSS payloads (S12) and formula-injection payloads (S13), put in names and notes.
XSS_PAYLOADS = [
    "<script>alert('xss-1')</script>",
    '"><img src=x onerror=alert(2)>',
    "<svg onload=alert(3)>",
    "javascript:alert(4)",
    "zz{{ 7|add:42 }}zz",
]
FORMULA_PAYLOADS = ["=HYPERLINK(\"http://127.0.0.1/x\",\"y\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1:A2)"]


@dataclass(frozen=True)
class Canary:
    token: str
    province: str  # province code of the object carrying it
    facility: str | None = None  # facility code, when the object belongs to one facility
    what: str = ""


@dataclass
class World:
    actors: dict = field(default_factory=dict)  # name -> User (None for anonymous)
    canaries: list = field(default_factory=list)
    objects: dict = field(default_factory=dict)  # name -> object, for PARAMS providers
    hostile: list = field(default_factory=list)  # strings stored somewhere that must render inert

    def canary(self, what: str, province: str, facility: str | None = None) -> str:
        token = f"zq{uuid.uuid4().hex[:10]}"
        self.canaries.append(Canary(token=token, province=province, facility=facility, what=what))
        return token

    def leaks_for(self, actor, body: str) -> list[Canary]:
        """Canaries in `body` that `actor` may not see (national roles see every province)."""
        return [c for c in self.canaries if c.token in body and not visible(actor, c)]


def visible(actor, canary: Canary) -> bool:
    if actor is None or not getattr(actor, "role", ""):
        return False
    if actor.role in MINISTRY_ROLES:
        return True
    if actor.province is None or actor.province.code != canary.province:
        return False
    if actor.role == Role.PROVINCE_OFFICER or canary.facility is None:
        return True
    return actor.facility is not None and actor.facility.code == canary.facility


ACTOR_NAMES = ["anonymous", "outsider", "doctor_a", "facility_admin_a", "officer_hanoi", "ministry_editor",
               "ministry_admin"]


def _seed_accounts(world: World) -> None:
    fac_a = f.FacilityFactory(code="01001", name="Bệnh viện Thử nghiệm A", province=f.province("01"))
    fac_a2 = f.FacilityFactory(code="01002", name="Trạm Y tế Thử nghiệm A2", province=f.province("01"))
    fac_b = f.FacilityFactory(code="79001", name="Bệnh viện Thử nghiệm B", province=f.province("79"))
    world.objects.update(facility_a=fac_a, facility_a2=fac_a2, facility_b=fac_b)

    actors = {
        "outsider": f.UserFactory(username="outsider", role="", full_name="Người ngoài"),
        "doctor_a": f.doctor(fac_a, username="doctor_a", full_name="Bác sĩ A"),
        "facility_admin_a": f.facility_admin(fac_a, username="facility_admin_a", full_name="Quản trị A"),
        "officer_hanoi": f.province_officer("01", username="officer_hanoi", full_name="Cán bộ Hà Nội"),
        "ministry_editor": f.ministry(Role.MINISTRY_EDITOR, username="ministry_editor", full_name="Biên tập Bộ"),
        "ministry_admin": f.ministry(Role.MINISTRY_ADMIN, username="ministry_admin", full_name="Quản trị Bộ"),
    }
    for user in actors.values():
        enrol_totp(user)
    world.actors = {"anonymous": None, **actors}

    # Staff the actors must not see: province 79, and facility A2 (same province, other facility).
    def secret_staff(make, province: str, facility: str | None, username: str, *args):
        token = world.canary(f"staff {username}", province, facility)
        return make(*args, username=username, full_name=f"Nguyễn Bí Mật {token}", email=f"{token}@test.invalid")

    world.objects["doctor_b"] = secret_staff(f.doctor, "79", "79001", "doctor_b", fac_b)
    world.objects["facility_admin_b"] = secret_staff(f.facility_admin, "79", "79001", "facility_admin_b", fac_b)
    world.objects["officer_hcm"] = secret_staff(f.province_officer, "79", None, "officer_hcm", "79")
    world.objects["doctor_a2"] = secret_staff(f.doctor, "01", "01002", "doctor_a2", fac_a2)
    world.objects["facility_admin_a2"] = secret_staff(f.facility_admin, "01", "01002", "facility_admin_a2", fac_a2)

    # Staff with hostile names inside the actors' scope, so the pages render them (S12, S13).
    for n, payload in enumerate(XSS_PAYLOADS + FORMULA_PAYLOADS):
        fac = fac_a if n % 2 == 0 else fac_a2
        make = f.doctor if n % 3 else f.facility_admin
        make(fac, username=f"hostile{n}", full_name=payload[:150])
        world.hostile.append(payload)


SEEDERS: list[Callable[[World], None]] = [_seed_accounts]


def build_world() -> World:
    world = World()
    for seed in SEEDERS:
        seed(world)
    return world
