"""`manage.py import_cards`: --json keys, re-import, refusal."""

import json

import pytest
from django.core.management import CommandError, call_command

from healthbook.management.commands.import_cards import JSON_KEYS
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_file(tmp_path, settings, card_codelists):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = tmp_path / "cards.csv"
    path.write_bytes(card_csv([person(1), person(2), person(3, SO_CCCD="1")]))
    return path


def _run(*args) -> dict:
    import io

    out = io.StringIO()
    call_command("import_cards", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def test_json_has_exactly_the_documented_keys(card_file):
    result = _run(str(card_file), "--sync", "--json")
    assert tuple(result) == JSON_KEYS
    assert result["status"] == "done"
    assert (result["rows_total"], result["rows_accepted"], result["rows_rejected"]) == (3, 2, 1)
    assert (result["citizens_created"], result["books_created"], result["cards_created"], result["cards_updated"]) == (
        2,
        2,
        2,
        0,
    )


def test_second_import_of_the_same_file_creates_nothing(card_file):
    first = _run(str(card_file), "--sync", "--json")
    second = _run(str(card_file), "--sync", "--json")
    assert second == first


def test_refused_file_fails_with_the_reason(tmp_path, card_codelists):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"HO_TEN\r\nA\r\n")
    with pytest.raises(CommandError, match="columns_missing"):
        call_command("import_cards", str(path), "--sync")


def test_documented_example_file_imports_cleanly(tmp_path, settings, card_codelists):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    example = __import__("pathlib").Path(__file__).resolve().parents[3] / "docs" / "examples" / "cards-example.csv"
    result = _run(str(example), "--sync", "--json")
    assert (result["status"], result["rows_total"], result["rows_accepted"]) == ("done", 3, 3)


def test_demo_step_imports_a_generated_batch_once(tmp_path, settings, card_codelists):
    from healthbook.models import CardBatch

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.VAR_DIR = tmp_path / "var"
    import io

    for _ in range(2):
        call_command("seed_demo_cards", "--rows", "300", stdout=io.StringIO(), stderr=io.StringIO())
    batch = CardBatch.objects.get()
    assert (batch.status, batch.rows_read) == ("done", 300)
    assert 0 < batch.rows_rejected < 30
