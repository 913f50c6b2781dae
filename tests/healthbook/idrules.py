"""Shared data and helpers of the identifier-rule tests (tests/healthbook/test_identifiers_*.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace

from healthbook.identifiers import (
    CARD_GROUP_CODES_VNEID,
    OLD_PROVINCE_CODES,
    check_card_number,
    check_personal_id,
    pid_province_codes,
)

REPO = Path(__file__).resolve().parents[2]
SHARED_PROVINCES = REPO.parent / "shared" / "domain" / "provinces.csv"
FIXTURES = REPO / "tests" / "fixtures" / "cards"

PPP = pid_province_codes(OLD_PROVINCE_CODES)
CARD_PROVINCES = OLD_PROVINCE_CODES
NEW_PROVINCE_CODES = frozenset(
    "01 04 08 11 12 14 15 19 20 22 24 25 31 33 37 38 40 42 44 46 48 51 52 56 66 68 75 79 80 82 86 91 92 96".split()
)
TODAY = date(2026, 1, 1)


def codes(problems):
    return [p.code for p in problems]


def pid(value, **kw):
    kw.setdefault("old_province_codes", PPP)
    return codes(check_personal_id(value, **kw))


def card(value, **kw):
    kw.setdefault("group_codes", CARD_GROUP_CODES_VNEID)
    kw.setdefault("province_codes", CARD_PROVINCES)
    return codes(check_card_number(value, **kw))


def load_gen():
    """The card generator (healthbook.cards.demo) with its command line (bench/gen_cards.py)."""
    from bench import gen_cards
    from healthbook.cards.demo import generate, people

    return SimpleNamespace(**{**vars(people), **vars(generate)}, main=gen_cards.main)
