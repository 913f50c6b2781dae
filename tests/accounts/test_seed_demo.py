import io

import pytest
from django.core.management import CommandError, call_command

from accounts.demo import KNOWN_PASSWORDS_FLAG
from accounts.models import User
from core.roles import Role
from facilities.models import Facility


def test_t12_seed_demo_refuses_with_debug_off_and_is_idempotent(db, settings, proof):
    """Issue 15, attack 12: `seed_demo` with DEBUG off (a production database) created a ministry
    administrator whose password is in the README. Now both demo commands that create accounts
    refuse without the flag naming the risk; with DEBUG on (`make run`: config/localdev.py sets
    DJANGO_DEBUG=1) seed_demo runs as before, and running it again (with the flag) changes nothing."""
    row = proof.row(
        "T12",
        "seed_demo and facilities_demo run with DEBUG off and without the flag naming the risk; then seed_demo "
        "with DEBUG on (make run), and again with DEBUG off and the flag",
    )
    settings.DEBUG = False
    refused = 0
    for command in ("seed_demo", "facilities_demo"):
        with pytest.raises(CommandError, match=KNOWN_PASSWORDS_FLAG):
            call_command(command, stdout=io.StringIO())
        refused += 1
    created_refused = User.objects.filter(is_demo=True).count()
    ministry_admins = User.objects.filter(role=Role.MINISTRY_ADMIN).count()

    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    first = (User.objects.count(), Facility.objects.count())
    created_debug = User.objects.filter(is_demo=True).count()
    settings.DEBUG = False
    call_command("seed_demo", KNOWN_PASSWORDS_FLAG, stdout=io.StringIO())
    row.set(
        times=4,
        figure=f"refused {refused} of 2 with DEBUG off (demo accounts created {created_refused}, ministry "
        f"admins {ministry_admins}); with DEBUG on: {created_debug} demo accounts; with the flag: ran",
    )
    assert (refused, created_refused, ministry_admins) == (2, 0, 0)
    assert created_debug == 8  # the seven demo accounts and ytcc.hanoi (issue 20)
    assert (User.objects.count(), Facility.objects.count()) == first
    # The demo doctors and the demo ministry admin work at once: their approval is part of the demo.
    assert not any(u.is_pending for u in User.objects.filter(is_demo=True))
    assert User.objects.get(username="bs.an").practising_certificate
