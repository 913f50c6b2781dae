from django.core.management import call_command

from accounts.models import User
from facilities.models import Facility


def test_seed_demo_is_idempotent(db):
    call_command("seed_demo")
    first = (User.objects.count(), Facility.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Facility.objects.count()) == first
    assert User.objects.filter(is_demo=True).count() == 7
