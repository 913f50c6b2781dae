"""Demo registry: the three demo facilities with their staff accounts, and about 300 generated
facilities across the 34 provinces, in every status, with 90 days of connection health.
Idempotent: facilities and accounts that exist are left alone.

Names are generated from common words and marked "(dữ liệu mẫu)"; no real facility is meant.
"""

import datetime as dt
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.demo import add_known_passwords_flag, demo_accounts_allowed_or_refuse, demo_users_ensure
from core.roles import Role
from facilities.models import (
    Facility,
    FacilityDailyHealth,
    FacilityStatus,
    FacilityStatusChange,
    Level,
    Ownership,
)
from geo.models import Commune, Province

S = FacilityStatus
PER_PROVINCE = 9
FIRST_NUMBER = 500
SEED = 2025
PLACES = [
    "An Phú",
    "Bình Minh",
    "Hòa Lạc",
    "Tân Thành",
    "Phú Mỹ",
    "Đông Hưng",
    "Vĩnh Lợi",
    "Thạnh Xuân",
    "Hưng Phát",
    "Quang Trung",
    "Long Điền",
    "Ngọc Sơn",
    "Đức Hòa",
    "Hải An",
    "Kim Liên",
    "Yên Thế",
]
KINDS = [
    (Level.COMMUNE_STATION, Ownership.PUBLIC, "Trạm Y tế xã {place}", 600),
    (Level.COMMUNE_STATION, Ownership.PUBLIC, "Trạm Y tế phường {place}", 800),
    (Level.REGIONAL, Ownership.PUBLIC, "Trung tâm Y tế khu vực {place}", 6000),
    (Level.PROVINCIAL, Ownership.PUBLIC, "Bệnh viện Đa khoa {place}", 15000),
    (Level.PRIVATE_CLINIC, Ownership.PRIVATE, "Phòng khám Đa khoa {place}", 900),
    (Level.PRIVATE_CLINIC, Ownership.PRIVATE, "Phòng khám Nha khoa {place}", 300),
    (Level.PRIVATE_HOSPITAL, Ownership.PRIVATE, "Bệnh viện Tư nhân {place}", 5000),
    (Level.CENTRAL, Ownership.PUBLIC, "Bệnh viện Chuyên khoa {place}", 20000),
]
STATUS_WEIGHTS = [
    (S.CONNECTED, 55),
    (S.APPROVED, 14),
    (S.PENDING, 12),
    (S.REJECTED, 5),
    (S.SUSPENDED, 8),
    (S.CLOSED, 6),
]
# (code, name, province code). Generated names: no real facility is implied.
DEMO_FACILITIES = [
    ("01001", "Bệnh viện Đa khoa Thử nghiệm Hà Nội", "01"),
    ("01002", "Trạm Y tế Phường Thử nghiệm, Hà Nội", "01"),
    ("79001", "Bệnh viện Đa khoa Thử nghiệm TP. Hồ Chí Minh", "79"),
]
# Their status, given once: the demo officer of Hà Nội finds 01002 in the queue.
SEED_DEMO_STATUSES = {"01001": S.CONNECTED, "79001": S.CONNECTED, "01002": S.PENDING}
# (username, full name, role, facility code)
DEMO_STAFF = [
    ("qt.hn001", "Hoàng Văn Quản", Role.FACILITY_ADMIN, "01001"),
    ("bs.an", "Nguyễn Văn An", Role.DOCTOR, "01001"),
    ("bs.binh", "Võ Thị Bình", Role.DOCTOR, "79001"),
]


# Plausible first errors of rejected submissions (intake problem codes), for the demo's counts: each
# demo rejection has a reason, as a real one would (the dashboards' reasons add up to the trend).
DEMO_REJECTION_REASONS = ("FIELD_REQUIRED", "FIELD_DATE", "MA_LK_MISMATCH", "SIG_CERT_UNKNOWN", "FIELD_TOO_LONG")


def _demo_reasons(rejected: int, rng) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for _ in range(rejected):
        code = rng.choices(DEMO_REJECTION_REASONS, weights=(5, 3, 2, 1, 1))[0]
        reasons[code] = reasons.get(code, 0) + 1
    return reasons


class Command(BaseCommand):
    help = "Load ~300 generated demo facilities with connection health (idempotent)."

    def add_arguments(self, parser):
        add_known_passwords_flag(parser)  # it creates the demo facility staff (known password)

    def handle(self, *args, **options):
        demo_accounts_allowed_or_refuse(options)
        rng = random.Random(SEED)
        now = timezone.now()
        provinces = list(Province.objects.prefetch_related("old_codes").order_by("code"))
        existing = set(Facility.objects.values_list("code", flat=True))
        plans = []
        for province in provinces:
            old_codes = sorted(o.code for o in province.old_codes.all()) or [province.code]
            for i in range(PER_PROVINCE):
                code = f"{old_codes[i % len(old_codes)]}{FIRST_NUMBER + i:03d}"
                status = rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
                plans.append((province, code, status, rng.random(), rng.randrange(1 << 30)))
        with transaction.atomic():
            self._demo_facilities(provinces)
            created = self._create(plans, existing, now)
            self._settle_seed_demo(now)
        self.stdout.write(f"Demo facilities: {created} created, {len(plans) - created} already present.")

    def _demo_facilities(self, provinces) -> None:
        """The three named demo facilities and their staff accounts (created once)."""
        by_code = {p.code: p for p in provinces}
        facilities = {}
        for code, name, province_code in DEMO_FACILITIES:
            facilities[code], _ = Facility.objects.update_or_create(
                code=code, defaults={"name": name, "province": by_code[province_code]}
            )
        demo_users_ensure(
            (username, full_name, role, facilities[code].province, facilities[code])
            for username, full_name, role, code in DEMO_STAFF
        )

    def _create(self, plans, existing, now) -> int:
        facilities, histories, health = [], [], []
        communes: dict[int, list] = {}  # province id -> its communes (of the list), loaded once
        for unit in Commune.objects.order_by("code"):
            communes.setdefault(unit.province_id, []).append(unit)
        for province, code, status, silent_roll, seed in plans:
            if code in existing:
                continue
            rng = random.Random(seed)
            level, ownership, pattern, visits = rng.choice(KINDS)
            place = rng.choice(PLACES)
            unit = rng.choice(communes[province.pk]) if communes.get(province.pk) else None
            registered = now - dt.timedelta(days=rng.randint(120, 400))
            facility = Facility(
                code=code,
                province=province,
                status=status,
                name=f"{pattern.format(place=place)} (dữ liệu mẫu)",
                commune_unit=unit,
                commune=unit.name_vi if unit else "",
                address=f"Số {rng.randint(1, 300)} đường {rng.choice(PLACES)}",
                ownership=ownership,
                level=level,
                has_insurance_contract=ownership == Ownership.PUBLIC or rng.random() < 0.6,
                contact_name="Cán bộ đầu mối (mẫu)",
                contact_phone=f"0{rng.randint(200000000, 999999999)}",
                contact_email=f"lienhe.{code}@demo.invalid",
                latitude=Decimal(f"{rng.uniform(9.0, 22.5):.6f}"),
                longitude=Decimal(f"{rng.uniform(103.0, 109.0):.6f}"),
                expected_monthly_visits=visits,
                registered_at=registered,
            )
            steps = [("", S.PENDING, registered, "Đăng ký (dữ liệu mẫu).")]
            if status == S.REJECTED:
                steps.append((S.PENDING, S.REJECTED, registered + dt.timedelta(days=2), "Thiếu giấy phép hoạt động."))
            if status in (S.APPROVED, S.CONNECTED, S.SUSPENDED, S.CLOSED):
                facility.approved_at = registered + dt.timedelta(days=3)
                steps.append((S.PENDING, S.APPROVED, facility.approved_at, ""))
            if status in (S.CONNECTED, S.SUSPENDED, S.CLOSED):
                days = self._health(facility, rng, now, silent=silent_roll < 0.15 or status != S.CONNECTED)
                health.extend(days)
                steps.append((S.APPROVED, S.CONNECTED, facility.first_accepted_at, "Lần gửi dữ liệu hợp lệ đầu tiên."))
            if status == S.SUSPENDED:
                steps.append(
                    (S.CONNECTED, S.SUSPENDED, now - dt.timedelta(days=20), "Gửi dữ liệu sai định dạng kéo dài.")
                )
            if status == S.CLOSED:
                steps.append((S.CONNECTED, S.CLOSED, now - dt.timedelta(days=15), "Cơ sở ngừng hoạt động."))
            facilities.append(facility)
            histories.append(steps)
        Facility.objects.bulk_create(facilities)
        FacilityStatusChange.objects.bulk_create(
            FacilityStatusChange(facility=f, from_status=a, to_status=b, at=at, reason=reason)
            for f, steps in zip(facilities, histories, strict=True)
            for a, b, at, reason in steps
        )
        for row in health:
            row.facility_id = row.facility.pk
        FacilityDailyHealth.objects.bulk_create(health, ignore_conflicts=True)
        return len(facilities)

    def _health(self, facility, rng, now, *, silent: bool) -> list[FacilityDailyHealth]:
        """90 days of counts; a silent facility stops sending (or only gets rejections) some days ago."""
        today = timezone.localdate(now)
        stop = rng.randint(9, 40) if silent else 0
        per_day = max(1, (facility.expected_monthly_visits or 300) // 30)
        rows = []
        first = None
        for back in range(89, -1, -1):
            day = today - dt.timedelta(days=back)
            if back < stop or rng.random() < 0.08:
                continue
            received = max(1, int(per_day * rng.uniform(0.5, 1.3)))
            rejected = int(received * rng.uniform(0.0, 0.12))
            minute = rng.randint(0, 59)
            # A Vietnam afternoon, never later than now (today's may not have come yet): the
            # day is local, and the time is made aware in the local zone, stored in UTC.
            at = min(
                timezone.make_aware(dt.datetime.combine(day, dt.time(16, minute))), now - dt.timedelta(minutes=minute)
            )
            rows.append(
                FacilityDailyHealth(
                    facility=facility,
                    day=day,
                    received=received,
                    accepted=received - rejected,
                    rejected=rejected,
                    rejection_reasons=_demo_reasons(rejected, random.Random(f"{facility.code}:{day}")),
                    last_contact_at=at,
                    last_accepted_at=at if received > rejected else None,
                )
            )
            first = first or at
            facility.last_contact_at = at
            if received > rejected:
                facility.last_accepted_at = at
        facility.first_accepted_at = first or facility.approved_at + dt.timedelta(days=2)
        facility.last_accepted_at = facility.last_accepted_at or facility.first_accepted_at
        facility.last_contact_at = facility.last_contact_at or facility.first_accepted_at
        return rows

    def _settle_seed_demo(self, now) -> None:
        """Give the seed_demo facilities a status once (only while they have no history)."""
        for code, status in SEED_DEMO_STATUSES.items():
            facility = Facility.objects.filter(code=code, status_changes__isnull=True).first()
            if facility is None:
                continue
            registered = now - dt.timedelta(days=200)
            steps = [("", S.PENDING, registered, "Đăng ký (dữ liệu mẫu).")]
            facility.registered_at = registered
            facility.status = status
            if status == S.CONNECTED:
                facility.approved_at = registered + dt.timedelta(days=3)
                rows = self._health(facility, random.Random(code), now, silent=False)
                FacilityDailyHealth.objects.bulk_create(rows, ignore_conflicts=True)
                steps += [
                    (S.PENDING, S.APPROVED, facility.approved_at, ""),
                    (S.APPROVED, S.CONNECTED, facility.first_accepted_at, "Lần gửi dữ liệu hợp lệ đầu tiên."),
                ]
            facility.save()
            FacilityStatusChange.objects.bulk_create(
                FacilityStatusChange(facility=facility, from_status=a, to_status=b, at=at, reason=reason)
                for a, b, at, reason in steps
            )
