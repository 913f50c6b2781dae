"""The fault checks reuse the card-batch fixtures (code lists, synchronous import) and the
intake fixtures (test PKI, signed envelopes, facility software)."""

from tests.healthbook.conftest import card_codelists, import_file  # noqa: F401 — fixtures
from tests.healthbook.intake.conftest import intake_codelists, pki, sender, signed, spec, today, unsigned, visits  # noqa: F401
