"""The held-out fixtures (tests/fixtures/cards, written by hand): the import gives exactly the
expected counts and reasons. A superseded row (same person later in the file) counts as
rejected with DUPLICATE_PERSON, so rows read = accepted + rejected."""

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from healthbook.cards.runs import card_batch_run
from healthbook.cards.services import card_batch_create
from healthbook.models import CardBatch, Citizen

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cards"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_heldout_file_gives_expected_counts_and_reasons(name, card_codelists, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    spec = EXPECTED["files"][name]
    with open(FIXTURES / name, "rb") as fh:
        batch = card_batch_create(acting_user=None, fh=fh, name=name, run_now=False).batch
    # Validate "as of" the fixture's date, as the batch would have been on that day.
    today = datetime.fromisoformat(EXPECTED["today"]).replace(hour=12, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    CardBatch.objects.filter(pk=batch.pk).update(created_at=today)
    card_batch_run(batch_id=batch.pk)
    batch.refresh_from_db()

    counts = spec["counts"]
    assert batch.status == CardBatch.Status.DONE
    assert batch.delimiter == spec["delimiter"]
    assert (batch.rows_read, batch.rows_accepted) == (counts["rows"], counts["accepted"])
    assert batch.rows_rejected == counts["rejected"] + counts["superseded"]
    found = sorted(batch.problems.values_list("line", "column", "code"))
    wanted = [(r["line"], e["column"], e["code"]) for r in spec["rejected"] for e in r["errors"]]
    wanted += [(s["line"], "MA_SO_BHXH", "DUPLICATE_PERSON") for s in spec.get("superseded", [])]
    assert found == sorted(wanted)
    assert Citizen.objects.count() == counts["accepted"]
