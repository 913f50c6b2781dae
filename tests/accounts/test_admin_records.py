"""Issue 15, attack 14: audit and sign-in records cannot be added, changed or deleted in the
Django admin -- not through its pages (one by one or the bulk delete action), and no
registration of a record model allows it (every registration is checked, so a model
registered later is covered)."""

import re

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import AuditEvent, AuthEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

# Registered models that are records of what happened (audit, sign-in, access, change logs).
RECORD_NAME = re.compile(r"(Event|Log|LogEntry|Attempt|History|Checkpoint|AccessLog)", re.I)


def _records() -> list:
    return [model for model in admin.site._registry if RECORD_NAME.search(model.__name__)]


def test_every_record_registration_is_read_only(proof):
    row = proof.row("T14", "Every Django admin registration of an audit or sign-in record: add, change, delete")
    superuser = f.UserFactory(username="ops", role="", is_staff=True, is_superuser=True)
    request = RequestFactory().get("/")
    request.user = superuser
    records = _records()
    allowed = [
        (model.__name__, what)
        for model in records
        for what, check in (
            ("add", admin.site._registry[model].has_add_permission(request)),
            ("change", admin.site._registry[model].has_change_permission(request)),
            ("delete", admin.site._registry[model].has_delete_permission(request)),
        )
        if check
    ]
    row.set(
        times=3 * len(records),
        figure=f"{len(records)} record models registered ({', '.join(m.__name__ for m in records)}): "
        f"{len(allowed)} of {3 * len(records)} writes allowed",
    )
    assert {AuthEvent, AuditEvent} <= set(records)
    assert not allowed, allowed


def test_the_admin_pages_refuse_to_add_change_or_delete_records(login):
    superuser = f.UserFactory(username="ops", role="", is_staff=True, is_superuser=True)
    client = login(superuser)
    event = AuthEvent.objects.create(kind=AuthEvent.Kind.choices[0][0], username_tried="x")
    audit = AuditEvent.objects.create(action="x", target_type="y", target_id="1")
    for model, obj in ((AuthEvent, event), (AuditEvent, audit)):
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert client.get(reverse(f"{name}_add")).status_code == 403
        assert client.post(reverse(f"{name}_add"), {"action": "forged"}).status_code == 403
        assert client.post(reverse(f"{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        assert client.post(reverse(f"{name}_change", args=[obj.pk]), {"action": "forged"}).status_code == 403
        listing = client.post(
            reverse(f"{name}_changelist"), {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
        )
        assert listing.status_code in (200, 302)
        assert model.objects.filter(pk=obj.pk).exists()
    assert AuthEvent.objects.filter(username_tried="x").count() == 1 and AuditEvent.objects.count() >= 1
