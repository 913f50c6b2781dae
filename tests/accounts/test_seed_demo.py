from django.core.management import call_command

from accounts.models import User
from facilities.models import Facility


def test_seed_demo_is_idempotent(db):
    call_command("seed_demo")
    first = (User.objects.count(), Facility.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Facility.objects.count()) == first
    assert User.objects.filter(is_demo=True).count() == 7
    # The demo doctors and the demo ministry admin work at once: their approval is part of the demo.
    assert not any(u.is_pending for u in User.objects.filter(is_demo=True))
    assert User.objects.get(username="bs.an").practising_certificate
