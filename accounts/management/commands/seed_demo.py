"""Load reference and demo data. Idempotent: running it again changes nothing.

This command creates the national and provincial demo accounts, then runs DEMO_STEPS (a list
of management commands with arguments, in order), through which each app loads its own demo
data, so `make run` keeps one entry point.

A step that ran to the end is recorded (accounts.DemoStepApplied, with the fingerprint of its
command, arguments and source: accounts.demo.demo_step_fingerprint); a warm `make run` skips it
while the fingerprint is unchanged. Steps in ALWAYS_RUN keep their own "nothing to do" check
(the rollups compute only the days not computed yet or not final). Each step's time is printed.
"""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import (
    KNOWN_PASSWORDS_FLAG,
    KNOWN_PASSWORDS_OPTION,
    add_known_passwords_flag,
    demo_accounts_allowed_or_refuse,
    demo_step_fingerprint,
    demo_step_record,
    demo_steps_applied,
    demo_users_ensure,
)
from accounts.models import User
from core.roles import Role
from geo.models import Province

# (username, full name, role, province code). The facility staff (qt.hn001, bs.an, bs.binh)
# come with their facilities (facilities_demo).
DEMO_USERS = [
    ("bo.quantri", "Nguyễn Thị Quản Trị", Role.MINISTRY_ADMIN, None),
    ("bo.bientap", "Trần Văn Biên Tập", Role.MINISTRY_EDITOR, None),
    ("so.hanoi", "Lê Thị Hà", Role.PROVINCE_OFFICER, "01"),
    ("so.hcm", "Phạm Minh Sơn", Role.PROVINCE_OFFICER, "79"),
    ("ytcc.hanoi", "Đỗ Thị Thu Hằng", Role.PUBLIC_HEALTH_OFFICER, "01"),
]

DEMO_STEPS: list[tuple[str, list[str]]] = [
    # Facilities: the three demo facilities with their staff, and ~300 generated facilities in
    # every status.
    ("facilities_demo", []),
    # Code lists: the national lists shipped in codelists/seed/.
    ("load_codelists", []),
    # Citizen books: a generated batch of about 20,000 insurance cards through the real import
    # pipeline (the same file is recognised by its checksum).
    ("seed_demo_cards", []),
    # Examination data intake: about 200 demo citizens' visits, labs, drugs, follow-ups,
    # vaccinations and pregnancy check-ups sent as signed submissions through the real API.
    ("seed_demo_submissions", []),
    # Dashboards: backfill the rollups over all the demo data above (120 days) — only the days
    # not computed yet or not final, and today when older than 15 minutes
    # (provinces.rollups.rollups_compute_missing). Last.
    ("rollups", ["--days", "120", "--missing"]),
    # Cohorts (issue 20): members and counts of every cohort over the demo data; the nightly job
    # recomputes them afterwards.
    ("cohorts_compute", []),
]

# Steps run on every start: they skip by themselves what is already done.
ALWAYS_RUN = frozenset({"rollups"})

# Steps that create demo accounts themselves (they check the same flag; seed_demo has checked it).
DEMO_ACCOUNT_STEPS = frozenset({"facilities_demo"})


class Command(BaseCommand):
    help = "Load reference and demo data (idempotent). Refused with DEBUG off unless " + KNOWN_PASSWORDS_FLAG + "."

    def add_arguments(self, parser):
        add_known_passwords_flag(parser)

    def handle(self, *args, **options):
        demo_accounts_allowed_or_refuse(options)
        with transaction.atomic():
            provinces = {p.code: p for p in Province.objects.all()}
            demo_users_ensure(
                (username, full_name, role, provinces.get(code) if code else None, None)
                for username, full_name, role, code in DEMO_USERS
            )
        applied = demo_steps_applied()
        for command, command_args in DEMO_STEPS:
            fingerprint = demo_step_fingerprint(command, command_args)
            if command not in ALWAYS_RUN and applied.get(command) == fingerprint:
                self.stdout.write(f"  {command}: already applied, skipped.")
                continue
            extra = {KNOWN_PASSWORDS_OPTION: True} if command in DEMO_ACCOUNT_STEPS else {}
            started = time.monotonic()
            call_command(command, *command_args, **extra)
            seconds = time.monotonic() - started
            if command not in ALWAYS_RUN:
                demo_step_record(command, fingerprint, seconds)
            self.stdout.write(f"  {command}: {seconds:.1f} s")
        accounts = User.objects.filter(is_demo=True).count()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {accounts} demo accounts."))
