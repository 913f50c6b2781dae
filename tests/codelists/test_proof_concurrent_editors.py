"""R6: 20 ministry editors save the same concept of a draft at the same moment, through the page.

Real PostgreSQL transactions on 20 connections (threads, each with its own signed-in client).
Optimistic locking: the form carries the revision the editor saw; the first save wins, every
other editor gets 409 with their value and the winner's side by side, reloads and saves again,
until all 20 have saved (in `make proof` every retry round is parallel again; in the fast run
the 19 losers retry one after another). Nothing is lost: the change log holds one entry per successful save
and the revision counts them.
"""

import threading

import pytest
from django.db import connections
from django.test import Client

from codelists import services
from codelists.models import ChangeLogEntry, Concept
from tests import factories as f
from tests.codelists import factories as cf
from tests.conftest import TRANSACTIONAL, enrol_totp

EDITORS = 20


def _parallel(fns):
    start = threading.Barrier(len(fns))
    results, errors = [None] * len(fns), []

    def run(i):
        try:
            start.wait(30)
            results[i] = fns[i]()
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


@TRANSACTIONAL
def test_r6_twenty_concurrent_editors_lose_no_update(proof):
    """Fast: one parallel round, then the losers reload and save one by one."""
    _twenty_editors(proof, contended_retries=False)


@pytest.mark.proof_long
@TRANSACTIONAL
def test_r6_twenty_concurrent_editors_retrying_in_parallel_lose_no_update(proof):
    _twenty_editors(proof, contended_retries=True)


def _twenty_editors(proof, *, contended_retries: bool):
    from datetime import date

    from core.roles import Role

    retries = "retry all together, round after round" if contended_retries else "retry one after another"
    row = proof.row(
        "R6",
        f"{EDITORS} ministry editors save the same concept of a draft at once through the edit page "
        f"(threads, one connection each); the losers reload and {retries} until all have saved",
    )
    admin = f.ministry(Role.MINISTRY_ADMIN, username="r6_admin")
    system = cf.system("lab-indicator", max_code_length=10)
    published = cf.version(
        system, "2020", [("GLU", "Glucose", True, {"unit": "mmol/L"})], effective_from=date(2020, 1, 1)
    )
    draft = services.draft_start(system=system, acting_user=admin, label="2026", effective_from=date(2026, 1, 1))
    assert published.pk != draft.pk
    concept = draft.concepts.get(code="GLU")
    url = f"/codelists/lab-indicator/versions/{draft.pk}/concepts/GLU/"
    clients = []
    for k in range(EDITORS):
        user = f.ministry(Role.MINISTRY_EDITOR, username=f"r6_editor_{k:02d}")
        enrol_totp(user)
        client = Client()
        client.force_login(user)
        clients.append(client)
    value = {k: f"Glucose — bản của biên tập viên {k:02d}" for k in range(EDITORS)}

    def save(k, revision):
        body = {"display_vi": value[k], "active": "on", "properties": '{"unit": "mmol/L"}', "revision": str(revision)}
        return clients[k].post(url, body)

    waiting = {k: concept.revision for k in range(EDITORS)}  # what each editor's open form says
    saved, conflicts, conflicts_with_diff, other, rounds, first_round_winners = [], 0, 0, [], 0, None
    while waiting and rounds < 2 * EDITORS:
        rounds += 1
        order = sorted(waiting)
        if rounds == 1 or contended_retries:
            responses = _parallel([lambda k=k: save(k, waiting[k]) for k in order])
        else:
            order = order[:1]
            responses = [save(order[0], waiting[order[0]])]
        winners = 0
        for k, response in zip(order, responses, strict=True):
            if response.status_code == 302:
                saved.append(k)
                winners += 1
                del waiting[k]
            elif response.status_code == 409:
                conflicts += 1
                body = response.content.decode()
                current = Concept.objects.get(pk=concept.pk)
                # the page shows the value that won this round beside the editor's own
                conflicts_with_diff += value[k] in body and current.display_vi in body
                waiting[k] = int(body.split('name="revision" value="')[1].split('"')[0])
            else:
                other.append(response.status_code)
        if first_round_winners is None:
            first_round_winners = winners
    final = Concept.objects.get(pk=concept.pk)
    edits = list(ChangeLogEntry.objects.filter(version=draft, code="GLU", action="concept_edit").order_by("id"))
    logged_values = [e.after.get("display_vi") for e in edits]
    lost = sum(value[k] not in logged_values for k in saved)
    row.set(
        times=len(saved) + conflicts,
        figure=f"first round: {first_round_winners} of {EDITORS} saved, {EDITORS - (first_round_winners or 0)} got "
        f"409; all rounds ({rounds}): {len(saved)} saves, {conflicts} conflicts (409, both values shown "
        f"{conflicts_with_diff}/{conflicts}); lost updates {lost}; change-log versions {len(edits)} = saves "
        f"{len(saved)}; revision {final.revision} = 1 + saves; other answers {other}",
    )
    assert first_round_winners == 1 and not other and not waiting
    assert lost == 0 and len(edits) == len(saved) == EDITORS and final.revision == 1 + EDITORS
    assert conflicts_with_diff == conflicts
    assert final.display_vi == value[saved[-1]]
