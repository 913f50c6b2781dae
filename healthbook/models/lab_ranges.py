"""Reference ranges and flags of lab results: one rule and one set of words (issue 18).

A range is stored as text, as a facility sent it or as intake built it from the national
lab-indicator list; `range_text` writes one-sided ranges with a sign ("≤ 37", "≥ 4"), never
"–37" (which reads as minus 37). `parse_range` reads what facilities send ("3.5-5.0",
"3,5 – 5,0", "<37", "≤ 37", ">= 4", and the "–37" / "4–" of older rows) into numbers, for the
display and for the band on the lab chart. Flags are H, L or A (intake maps the FHIR
interpretation codes onto them); FLAG_LABELS are the words every page and the chart show.
"""

import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import pgettext_lazy

FLAG_LABELS = {
    "H": pgettext_lazy("lab flag", "high"),
    "L": pgettext_lazy("lab flag", "low"),
    "A": pgettext_lazy("lab flag", "abnormal"),
}

_NUM = r"[+-]?\d+(?:[.,]\d+)?"
_DASH = r"\s*(?:-|–|—|\.\.)\s*"
_BOTH = re.compile(rf"^\s*({_NUM}){_DASH}({_NUM})\s*$")
_HIGH_ONLY = re.compile(r"^\s*(?:(?:-|–|—)\s*|<=?\s*|≤\s*)(\d+(?:[.,]\d+)?)\s*$")
_LOW_ONLY = re.compile(rf"^\s*(?:>=?\s*|≥\s*)({_NUM})\s*$|^\s*({_NUM}){_DASH}$")


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def parse_range(text: str | None) -> tuple[Decimal | None, Decimal | None] | None:
    """(low, high) of a reference range text, either side None when open; None when the text
    is not a numeric range ("âm tính", "xem kết quả")."""
    if not text:
        return None
    if m := _BOTH.match(text):
        return _number(m.group(1)), _number(m.group(2))
    if m := _HIGH_ONLY.match(text):
        return None, _number(m.group(1))
    if m := _LOW_ONLY.match(text):
        return _number(m.group(1) or m.group(2)), None
    return None


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def range_text(low: Decimal | None, high: Decimal | None) -> str:
    """The stored text of a range built from numbers: "3.9–5.2", "≤ 37", "≥ 4" or ""."""
    if low is not None and high is not None:
        return f"{_plain(low)}–{_plain(high)}"
    if high is not None:
        return f"≤ {_plain(high)}"
    if low is not None:
        return f"≥ {_plain(low)}"
    return ""
