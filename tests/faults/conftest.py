"""The fault checks reuse the card-batch fixtures (code lists, synchronous import)."""

from tests.healthbook.conftest import card_codelists, import_file  # noqa: F401 — fixtures
