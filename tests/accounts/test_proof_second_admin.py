"""Proof row T13 (issue 15, "Trust"), accounts: one ministry administrator alone cannot make
another; the new account waits for a second administrator's approval."""

import pytest
from django.urls import reverse

from accounts.models import User
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_t13_a_new_ministry_admin_needs_a_second_admins_approval(proof, client, login, ministry_admin, settings):
    row = proof.row(
        "T13",
        "a ministry administrator creates three ministry administrators on the staff page, approves them "
        "itself and signs in as them; then a second administrator approves one",
    )
    login(ministry_admin)
    for n in range(3):
        client.post(
            reverse("staff-create"),
            {
                "full_name": f"Quản trị Mới {n}",
                "username": f"qt.moi{n}",
                "email": f"qt.moi{n}@test.invalid",
                "role": "ministry_admin",
            },
        )
    created = list(User.objects.filter(username__startswith="qt.moi").order_by("username"))
    for user in created:
        client.post(f"/staff/{user.public_id}/approve/")
    client.logout()
    usable = 0
    for user in created:
        user.set_password(f.TEST_PASSWORD)
        user.save(update_fields=["password"])
        usable += client.login(username=user.username, password=f.TEST_PASSWORD)
        client.logout()
    second = f.ministry(username="ministry_admin_2")
    login(second)
    approved = client.post(f"/staff/{created[0].public_id}/approve/")
    client.logout()
    after = client.login(username=created[0].username, password=f.TEST_PASSWORD)
    row.set(
        times=len(created) * 2 + 1,
        figure=f"accounts created {len(created)}/3; usable before a second administrator approved {usable}/"
        f"{len(created)}; usable after the second administrator's approval {int(after)}/1",
    )
    assert len(created) == 3 and usable == 0 and approved.status_code in (200, 302) and after
