"""Load reference and demo data. Idempotent: running it again changes nothing.

Later capabilities add their demo steps to DEMO_STEPS (a list of management commands
with arguments), so `make run` keeps one entry point.
"""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, User
from facilities.models import Facility
from provinces.models import Province

DEMO_PASSWORD_DEFAULT = "demo-Sskdt-2025"  # noqa: S105 — demo accounts, DEBUG only

# (code, name, province code). Generated names: no real facility is implied.
DEMO_FACILITIES = [
    ("01001", "Bệnh viện Đa khoa Thử nghiệm Hà Nội", "01"),
    ("01002", "Trạm Y tế Phường Thử nghiệm, Hà Nội", "01"),
    ("79001", "Bệnh viện Đa khoa Thử nghiệm TP. Hồ Chí Minh", "79"),
]

# (username, full name, role, province code, facility code)
DEMO_USERS = [
    ("bo.quantri", "Nguyễn Thị Quản Trị", Role.MINISTRY_ADMIN, None, None),
    ("bo.bientap", "Trần Văn Biên Tập", Role.MINISTRY_EDITOR, None, None),
    ("so.hanoi", "Lê Thị Hà", Role.PROVINCE_OFFICER, "01", None),
    ("so.hcm", "Phạm Minh Sơn", Role.PROVINCE_OFFICER, "79", None),
    ("qt.hn001", "Hoàng Văn Quản", Role.FACILITY_ADMIN, "01", "01001"),
    ("bs.an", "Nguyễn Văn An", Role.DOCTOR, "01", "01001"),
    ("bs.binh", "Võ Thị Bình", Role.DOCTOR, "79", "79001"),
]

# Further demo steps added by later capabilities: (command, args).
DEMO_STEPS: list[tuple[str, list[str]]] = []
DEMO_STEPS.append(("facilities_demo", []))  # facilities: ~300 generated facilities, every status

# Code lists: the national lists shipped in codelists/seed/ (idempotent).
DEMO_STEPS.append(("load_codelists", []))

# Citizen books: a generated batch of about 20,000 insurance cards through the real import
# pipeline (idempotent: the same file is recognised by its checksum).
DEMO_STEPS.append(("seed_demo_cards", []))

# Dashboards: backfill the rollups over the demo data (120 days; idempotent).
DEMO_STEPS.append(("rollups", ["--days", "120"]))


class Command(BaseCommand):
    help = "Load reference and demo data (idempotent)."

    def handle(self, *args, **options):
        password = os.environ.get("SSKDT_DEMO_PASSWORD", DEMO_PASSWORD_DEFAULT)
        with transaction.atomic():
            provinces = {p.code: p for p in Province.objects.all()}
            facilities = {}
            for code, name, province_code in DEMO_FACILITIES:
                facilities[code], _ = Facility.objects.update_or_create(
                    code=code, defaults={"name": name, "province": provinces[province_code]}
                )
            for username, full_name, role, province_code, facility_code in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "full_name": full_name,
                        "email": f"{username}@demo.invalid",
                        "role": role,
                        "province": provinces.get(province_code) if province_code else None,
                        "facility": facilities.get(facility_code) if facility_code else None,
                        "is_demo": True,
                    },
                )
                if created:
                    user.set_password(password)
                    user.save(update_fields=["password"])
        for command, command_args in DEMO_STEPS:
            call_command(command, *command_args)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(DEMO_USERS)} demo accounts."))

# Examination data intake: about 200 demo citizens' visits, labs, drugs, follow-ups,
# vaccinations and pregnancy check-ups sent as signed submissions through the real API.
DEMO_STEPS.append(("seed_demo_submissions", []))
