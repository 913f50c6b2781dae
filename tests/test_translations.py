"""The Vietnamese catalogs are complete and their committed .mo files match the .po files."""

import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = sorted(
    p for p in ROOT.glob("**/locale/vi/LC_MESSAGES/django.po") if ".venv" not in p.parts and "var" not in p.parts
)


def _entries(po: Path):
    """Yield (msgid, msgstr, fuzzy) from a .po file (singular entries and first plural form); an
    entry with a msgctxt is keyed as gettext keys it: "context\x04msgid"."""
    text = po.read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue
        fuzzy = "#, fuzzy" in block
        msgid = _field(block, "msgid")
        if msgid is None or msgid == "":
            continue
        msgstr = _field(block, "msgstr")
        if msgstr is None:
            msgstr = _field(block, r"msgstr\[0\]")
        context = _field(block, "msgctxt")
        yield (f"{context}\x04{msgid}" if context is not None else msgid), msgstr or "", fuzzy


def _field(block: str, name: str):
    match = re.search(rf'^{name} ((?:".*"\n?)+)', block + "\n", re.M)
    if not match:
        return None
    return "".join(eval(part) for part in match.group(1).strip().split("\n"))  # noqa: S307 — our own .po strings


def test_there_are_catalogs():
    assert len(CATALOGS) >= 3


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalog_is_complete_and_not_fuzzy(po):
    missing = [msgid for msgid, msgstr, fuzzy in _entries(po) if not msgstr or fuzzy]
    assert missing == []


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalog_matches_the_po_file(po):
    with po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = compiled._catalog
    stale = [msgid for msgid, msgstr, _ in _entries(po) if catalog.get(msgid, catalog.get((msgid, 0))) != msgstr]
    assert stale == []
