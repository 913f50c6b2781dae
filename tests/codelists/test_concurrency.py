"""Two editors save the same concept at the same time: the second sees a conflict, never a silent overwrite.

Real transactions on two database connections (threads), not a simulation.
"""

import threading
from datetime import date

import pytest
from django.db import connection

from codelists import services
from codelists.models import Concept
from tests import factories as f
from tests.codelists import factories as cf


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_second_concurrent_save_gets_a_conflict_with_both_values():
    from core.roles import Role

    editor_1 = f.ministry(Role.MINISTRY_EDITOR, username="editor_1")
    editor_2 = f.ministry(Role.MINISTRY_EDITOR, username="editor_2")
    system = cf.system("lab-indicator")
    draft = cf.version(system, "nháp", [("GLU", "Glucose")], status="draft", effective_from=date(2026, 1, 1))
    concept = Concept.objects.get(version=draft, code="GLU")
    assert concept.revision == 1

    first_saved = threading.Event()
    second_started = threading.Event()
    outcome = {}

    def save(name, user, display, *, hold: bool):
        try:
            from django.db import transaction

            with transaction.atomic():
                if not hold:
                    second_started.set()
                try:
                    services.concept_edit(
                        concept=concept,
                        acting_user=user,
                        expected_revision=1,
                        fields=services.ConceptFields(display_vi=display),
                    )
                    outcome[name] = "saved"
                except services.ConceptConflict as exc:
                    outcome[name] = exc
                if hold:
                    # Keep the first transaction open until the second is waiting on the row lock.
                    second_started.wait(5)
                    threading.Event().wait(0.3)
            if hold:
                first_saved.set()
        finally:
            connection.close()

    t1 = threading.Thread(target=save, args=("first", editor_1, "Glucose máu lúc đói"), kwargs={"hold": True})
    t1.start()
    # Let the first editor take the locks before the second starts.
    threading.Event().wait(0.2)
    t2 = threading.Thread(target=save, args=("second", editor_2, "Đường huyết"), kwargs={"hold": False})
    t2.start()
    t1.join(10)
    t2.join(10)

    assert outcome["first"] == "saved"
    conflict = outcome["second"]
    assert isinstance(conflict, services.ConceptConflict)
    assert conflict.current["display_vi"] == "Glucose máu lúc đói"
    assert conflict.submitted["display_vi"] == "Đường huyết"
    assert conflict.current_editor.username == "editor_1"
    stored = Concept.objects.get(pk=concept.pk)
    assert (stored.display_vi, stored.revision) == ("Glucose máu lúc đói", 2)


def test_stale_form_shows_both_values_on_the_page(client, login, labs, ministry_editor, ministry_admin):
    draft = services.draft_start(
        system=labs.system, acting_user=ministry_admin, label="nháp", effective_from=date(2026, 1, 1)
    )
    glu = draft.concepts.get(code="GLU")
    services.concept_edit(
        concept=glu,
        acting_user=ministry_admin,
        expected_revision=1,
        fields=services.ConceptFields(display_vi="Glucose của quản trị", properties=glu.properties),
    )
    c = login(ministry_editor)
    url = f"/codelists/lab-indicator/versions/{draft.pk}/concepts/GLU/"
    r = c.post(url, {"display_vi": "Glucose của biên tập", "active": "on", "properties": "{}", "revision": "1"})
    assert r.status_code == 409
    body = r.content.decode()
    assert "Glucose của quản trị" in body and "Glucose của biên tập" in body
    assert 'name="revision" value="2"' in body
    assert Concept.objects.get(pk=glu.pk).display_vi == "Glucose của quản trị"
    # Saving again, now knowingly, goes through.
    r = c.post(url, {"display_vi": "Glucose của biên tập", "active": "on", "properties": "{}", "revision": "2"})
    assert r.status_code == 302
    assert Concept.objects.get(pk=glu.pk).display_vi == "Glucose của biên tập"
