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

from core.roles import MINISTRY_ROLES, Role
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
FORMULA_PAYLOADS = [
    '=HYPERLINK("http://127.0.0.1/x","y")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=2+3",  # a leading TAB or CR: some spreadsheets drop it and run the rest
    "\r=4+5",
]


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
    if actor.role in (Role.PROVINCE_OFFICER, Role.PUBLIC_HEALTH_OFFICER) or canary.facility is None:
        return True
    return actor.facility is not None and actor.facility.code == canary.facility


ACTOR_NAMES = [
    "anonymous",
    "outsider",
    "doctor_a",
    "facility_admin_a",
    "officer_hanoi",
    "public_health_hanoi",
    "ministry_editor",
    "ministry_admin",
]


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
        "public_health_hanoi": f.UserFactory(
            username="public_health_hanoi",
            role=Role.PUBLIC_HEALTH_OFFICER,
            province=f.province("01"),
            full_name="Y tế công cộng Hà Nội",
        ),
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
    # Accounts waiting for a second party (issue 15): a doctor of province 79, and a ministry
    # administrator the actor ministry_admin created (it may not approve its own creation).
    world.objects["pending_doctor_79"] = secret_staff(
        lambda *a, **kw: f.doctor(*a, approved_at=None, **kw), "79", "79001", "pending_doctor_79", fac_b
    )
    world.objects["pending_admin_own"] = f.ministry(
        Role.MINISTRY_ADMIN, username="pending_admin_own", approved_at=None, created_by=actors["ministry_admin"]
    )

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


# --- capabilities merged after the suite was written (facilities, code lists, card batches,
# intake, doctor book pages, access log, dashboards). Objects the actors must not reach carry
# canaries; objects inside their scope carry the hostile names. url_rules.PARAMS reads the
# `world.objects` entries named here.

NATIONAL_ONLY = "national"  # canary "province" of data only ministry staff may see (code-list drafts)


def _seed_facilities(world: World) -> None:
    from facilities.models import FacilityStatus

    def facility(code, province, secret):
        token = world.canary(f"facility {code}", province, code) if secret else ""
        return f.FacilityFactory(
            code=code,
            name=f"Phòng khám Bí Mật {token}" if secret else f"Cơ sở {code}",
            province=f.province(province),
            status=FacilityStatus.APPROVED,
            address=f"Số 1 {token}" if secret else "",
        )

    world.objects["facility_c"] = facility("79002", "79", True)  # another province
    world.objects["facility_a3"] = facility("01003", "01", True)  # same province, another facility
    for n, payload in enumerate(XSS_PAYLOADS + FORMULA_PAYLOADS):  # inside officer_hanoi's scope
        f.FacilityFactory(
            code=f"01{200 + n}",
            name=payload[:200],
            province=f.province("01"),
            status=FacilityStatus.APPROVED,
            address=payload[:200],
            contact_name=payload[:150],
        )


def _seed_code_lists(world: World) -> None:
    from codelists.models import VersionStatus
    from tests.codelists import factories as cl

    system = cl.system("zzsec", name_vi="Danh mục kiểm thử bảo mật")
    hostile = [(f"H{n:02d}", p[:200]) for n, p in enumerate(XSS_PAYLOADS + FORMULA_PAYLOADS)]
    v1 = cl.version(system, "2024", hostile[:3])
    v2 = cl.version(system, "2025", hostile, based_on=v1)
    token = world.canary("code-list draft", NATIONAL_ONLY)
    draft = cl.version(
        system, f"nhap-{token}", [("S01", f"Khái niệm nháp {token}")], status=VersionStatus.DRAFT, based_on=v2
    )
    world.objects.update(codelist_system=system, codelist_v1=v1, codelist_v2=v2, codelist_draft=draft)
    world.hostile.extend(p for _, p in hostile)


def _card_batch(world, province, name, problems=()):
    from healthbook.models import CardBatch, CardBatchProblem

    batch = CardBatch.objects.create(
        sha256=uuid.uuid4().hex * 2,
        file=f"card-batches/{name}",
        original_name=name,
        size_bytes=1,
        file_format="csv",
        status=CardBatch.Status.DONE,
        scope_province=f.province(province),
        rows_read=len(problems),
        rows_rejected=len(problems),
    )
    CardBatchProblem.objects.bulk_create(
        CardBatchProblem(batch=batch, line=n + 2, column="ho_ten", value=v, code="REQUIRED")
        for n, v in enumerate(problems)
    )
    return batch


def _seed_card_batches(world: World) -> None:
    token = world.canary("card batch of province 79", "79")
    world.objects["card_batch_79"] = _card_batch(world, "79", f"the-{token}.csv", [f"Nguyễn {token}"])
    world.objects["card_batch_01"] = _card_batch(world, "01", "the-hn.csv", XSS_PAYLOADS + FORMULA_PAYLOADS)


def _seed_clinical(world: World) -> None:
    """Submissions, a citizen's book with clinical data at another province's facility, and an
    emergency access granted at facility A2."""
    import datetime as dt

    from django.utils import timezone

    from accesslog.models import EmergencyAccess, EmergencyReason
    from tests.healthbook.book import factories as d

    world.objects["submission_79"] = d.submission(world.objects["facility_c"])
    world.objects["submission_a3"] = d.submission(world.objects["facility_a3"])

    token = world.canary("clinical note at facility 79002", "79", "79002")
    person = d.citizen(name="Trần Thị Thử", province=f.province("79"))
    d.visit(person.book, world.objects["facility_c"], note=f"Ghi chú lâm sàng {token}", labs=2, drugs=1, dx="E11")
    world.objects["book_b"] = person.book

    token = world.canary("emergency access at facility 79001", "79", "79001")
    now = timezone.now()
    world.objects["emergency_grant_79"] = EmergencyAccess.objects.create(
        user=world.objects["doctor_b"],
        facility=world.objects["facility_b"],
        citizen=person,
        reason=EmergencyReason.OTHER,
        reason_text=f"Cấp cứu {token}",
        started_at=now,
        expires_at=now + dt.timedelta(hours=1),
    )
    # A token doctor_b granted to facility B's software (its page lists and revokes it).
    from facilities.credentials import api_key_create
    from facilities.models import PractitionerToken

    key_b = api_key_create(facility=world.objects["facility_b"], name="HIS B", acting_user=None).row
    world.objects["token_doctor_b"] = PractitionerToken.objects.create(
        token_hash="0" * 64,
        api_key=key_b,
        user=world.objects["doctor_b"],
        scope="user/*.read",
        expires_at=now + dt.timedelta(minutes=30),
    )

    token = world.canary("emergency access at facility 01002", "01", "01002")
    world.objects["emergency_grant_a2"] = EmergencyAccess.objects.create(
        user=world.objects["doctor_a2"],
        facility=world.objects["facility_a2"],
        citizen=person,
        reason=EmergencyReason.OTHER,
        reason_text=f"Cấp cứu {token}",
        started_at=now,
        expires_at=now + dt.timedelta(hours=1),
    )


def _seed_dead_letters(world: World) -> None:
    """A message to a citizen of province 79 and one of province 01 that were not delivered."""
    from django.utils import timezone

    from healthbook.models import Notification
    from tests.healthbook.book import factories as d

    now = timezone.now()
    for code in ("79", "01"):
        token = world.canary(f"dead letter of province {code}", code)
        person = d.citizen(name="Lê Văn Thư", province=f.province(code))
        world.objects[f"dead_letter_{code}"] = Notification.objects.create(
            citizen=person,
            kind=Notification.Kind.FOLLOW_UP,
            dedupe_key=f"appointment:{token}",
            channel=Notification.Channel.VNEID,
            province=f.province(code),
            status=Notification.Status.DEAD,
            attempts=6,
            last_error=f"HTTP 422: {token}",
            next_attempt_at=now,
            created_at=now,
        )


def _seed_line_lists(world: World) -> None:
    """A line list opened by a public-health officer of province 79 (issue 20)."""
    from datetime import timedelta

    from django.utils import timezone

    from publichealth.models import LineListOpening

    officer = f.UserFactory(username="ytcc_79", role=Role.PUBLIC_HEALTH_OFFICER, province=f.province("79"))
    # The Hà Nội actor's own list, so the crawl reads the list and the reminders' confirmation.
    mine = world.actors["public_health_hanoi"]
    world.objects["line_list_01"] = LineListOpening.objects.create(
        user=mine,
        province=mine.province,
        cohort_version_id=1,
        cohort_key="hypertension-follow-up-missed",
        cohort_name="Người tăng huyết áp quá hạn tái khám",
        purpose="outreach",
        purpose_text="Nhắc người dân đi khám lại",
        citizen_ids=[],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    world.objects["line_list_79"] = LineListOpening.objects.create(
        user=officer,
        province=officer.province,
        cohort_version_id=1,
        cohort_key="standin",
        cohort_name="Nhóm 79",
        purpose="outreach",
        purpose_text="Nhắc người dân đi khám lại",
        citizen_ids=[],
        expires_at=timezone.now() + timedelta(hours=1),
    )


SEEDERS += [_seed_facilities, _seed_code_lists, _seed_card_batches, _seed_clinical, _seed_dead_letters]
SEEDERS.append(_seed_line_lists)
