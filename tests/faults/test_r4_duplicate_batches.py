"""R4: the same card file again, the same rows re-ordered, and 10 % of the rows changed.

Same bytes → "already imported" with the original batch (page message and API 200 with its id),
nothing written; the same rows in another order (several chunks, so rows cross chunk borders)
→ 0 changes; 10 % of the rows with a renewed card or a new address → exactly those rows updated,
each old card in the history, every other row untouched (compared field by field).
"""

import io
import random

import pytest
from django.urls import reverse

from healthbook.models import CardBatch, Citizen, InsuranceCard, InsuranceCardHistory
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db

ROWS = 300
CHUNK = 40


def _snapshot() -> dict:
    """Every citizen's and card's stored fields (with their update times), by insurance number."""
    citizens = {c["social_insurance_number"]: c for c in Citizen.objects.values()}
    cards = {k["social_insurance_number"]: k for k in InsuranceCard.objects.values()}
    return {sin: (citizens[sin], cards.get(sin)) for sin in citizens}


def _upload(client, data: bytes, url_name: str):
    fh = io.BytesIO(data)
    fh.name = "the-bhyt.csv"
    return client.post(reverse(url_name), {"file": fh})


def test_duplicate_reordered_and_changed_batches(proof, import_file, login, ministry_admin, settings):
    settings.CARD_IMPORT_CHUNK_ROWS = CHUNK
    people = [person(n) for n in range(1, ROWS + 1)]
    original = card_csv(people)
    first = import_file(original)
    assert (first.status, first.rows_accepted, first.citizens_created) == (CardBatch.Status.DONE, ROWS, ROWS)
    before = _snapshot()

    # 1. The same file again: the page and the API name the original batch; nothing is written.
    client = login(ministry_admin)
    page = _upload(client, original, "card-batch-list")
    api = _upload(client, original, "api-card-batches")
    service = import_file(original)
    same_file = {
        "page_to_original": page.status_code == 302 and page["Location"].endswith(f"/{first.public_id}/"),
        "api_200_original": api.status_code == 200
        and api.json()["id"] == str(first.public_id)
        and api.json()["duplicate"] is True,
        "service_original": service.pk == first.pk,
    }
    follow = client.get(page["Location"])
    message = [str(m) for m in follow.context["messages"]]
    batches_after_same = CardBatch.objects.count()
    rows_changed_same = sum(before[s] != v for s, v in _snapshot().items()) + (len(_snapshot()) - len(before))

    # 2. The same rows in another order: a new file (other bytes), a new batch, 0 changes.
    shuffled = people[:]
    random.Random(9).shuffle(shuffled)
    reordered = import_file(card_csv(shuffled))
    after_reorder = _snapshot()
    changed_reorder = sorted(s for s in before if after_reorder[s] != before[s])
    history_reorder = InsuranceCardHistory.objects.count()

    # 3. 10 % of the rows changed (half a renewed card, half a new address), in another order again.
    rng = random.Random(10)
    picked = set(rng.sample(range(ROWS), ROWS // 10))
    renewed = {i for n, i in enumerate(sorted(picked)) if n % 2 == 0}
    rows = []
    for i, row in enumerate(people):
        if i in renewed:
            row = row | {"GT_THE_TU": "20260101", "GT_THE_DEN": "20261231"}
        elif i in picked:
            row = row | {"DIA_CHI": f"Số {i} Trần Hưng Đạo, phường Cầu Ông Lãnh"}
        rows.append(row)
    rows.reverse()
    changed = import_file(card_csv(rows))
    after = _snapshot()
    wanted = {people[i]["MA_SO_BHXH"] for i in picked}
    touched = {s for s in before if after[s] != before[s]}
    history = set(InsuranceCardHistory.objects.values_list("social_insurance_number", flat=True))
    wanted_cards = {people[i]["MA_SO_BHXH"] for i in renewed}

    proof.row("R4", f"the same {ROWS}-row card file uploaded again (page, API, service)").set(
        times=3,
        figure=f"3 re-uploads → 'already imported' with the original batch id: {sum(same_file.values())}/3; "
        f"new batches: {batches_after_same - 1}; rows inserted or changed: {rows_changed_same}",
    )
    proof.row("R4", f"the same {ROWS} rows re-ordered (new file, {CHUNK}-row chunks)").set(
        times=ROWS,
        figure=f"rows changed: {len(changed_reorder)}; citizens/cards created {reordered.citizens_created}/"
        f"{reordered.cards_created}, cards updated {reordered.cards_updated}; card history rows {history_reorder}",
    )
    proof.row("R4", f"{len(picked)} of {ROWS} rows changed (10 %: renewed card or new address), order reversed").set(
        times=ROWS,
        figure=f"rows updated: {len(touched)} (expected {len(picked)}; updated but unchanged: "
        f"{len(touched - wanted)}, changed but missed: {len(wanted - touched)}); cards updated "
        f"{changed.cards_updated} = renewed {len(wanted_cards)}; inserted {changed.citizens_created}",
    )

    assert all(same_file.values()), same_file
    assert any("imported before" in m or "đã được nhập" in m for m in message), message
    assert batches_after_same == 1 and rows_changed_same == 0
    assert reordered.pk != first.pk and reordered.status == CardBatch.Status.DONE
    assert changed_reorder == [] and history_reorder == 0
    assert (reordered.citizens_created, reordered.cards_created, reordered.cards_updated) == (0, 0, 0)
    assert touched == wanted
    assert history == wanted_cards and changed.cards_updated == len(wanted_cards)
    assert (changed.citizens_created, changed.cards_created, changed.books_created) == (0, 0, 0)
    assert changed.rows_accepted == ROWS
