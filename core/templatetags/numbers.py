"""One number format per language, on every page: `{{ value|number }}` (issue 18).

Vietnamese pages write 1.234,5 (thousands dot, decimal comma), English pages 1,234.5: the
separators come from the active language's format module (config/formats/<lang>/formats.py)
through Django's own `number_format`, so nothing here knows a separator.
"""

import re
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats

register = template.Library()

DASH = "—"
_NUMERIC = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def format_number(value, decimals: int | None = None) -> str:
    """`value` (int, float, Decimal or a numeric string such as "145.07" as sent by a facility)
    in the active language's format, grouped by thousands. A string that is not a plain number
    ("âm tính", "1/160") is returned unchanged; a float gets one decimal unless told otherwise;
    a Decimal or numeric string keeps the decimals it has (trailing zeros dropped)."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if not _NUMERIC.match(text):
            return value
        value = Decimal(text)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        if decimals is None:
            value = _plain(value)
            decimals = max(0, -value.as_tuple().exponent)
    elif isinstance(value, float) and decimals is None:
        decimals = 1
    return formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def _plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to an exponent (Decimal("100").normalize() is 1E+2)."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal.as_tuple().exponent > 0 else normal


@register.filter
def number(value, decimals=None):
    """Format a number the active language's way (see format_number); `|number:2` fixes the decimals."""
    try:
        places = int(decimals) if decimals not in (None, "") else None
    except (TypeError, ValueError):
        places = None
    try:
        return format_number(value, places)
    except (InvalidOperation, TypeError, ValueError):
        return value
