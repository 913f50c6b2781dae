"""The facility's tax code (mã số thuế, MST): its format and check digit.

An organisation's MST has 10 digits: two for the province where it was registered, seven of
sequence (never 0000000) and a check digit; a dependent unit (a branch, chi nhánh) has the
parent's ten digits, a dash and three more (001–999). The check digit N10 of N1…N9 is
10 - (31·N1 + 29·N2 + 23·N3 + 19·N4 + 17·N5 + 13·N6 + 7·N7 + 5·N8 + 3·N9) mod 11; a remainder
of 0 would need "10", so such a prefix is never issued.

Sources: Circular 105/2020/TT-BTC and 86/2024/TT-BTC, art. 5 (10 digits for organisations,
13 with a dash for dependent units); the check digit and its worked example 0100047516 as
documented by python-stdnum (`stdnum.vn.mst`, which cites vi.wikipedia.org "Thuế Việt Nam",
Mã số thuế của doanh nghiệp) and by the vn-ident package. Since 1 July 2025 individuals and
household businesses use their 12-digit personal ID as tax code (Circular 86/2024/TT-BTC); a
facility in this registry is an organisation, so that form is not accepted here (a personal ID
would then be printed in certificates and on pages). Written out here: a few lines, no
dependency.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_SHAPE = re.compile(r"^([0-9]{10})(?:-?([0-9]{3}))?$")


def tax_code_check_digit(first_nine: str) -> str | None:
    """The tenth digit for `first_nine`, or None when no digit fits (remainder 0)."""
    value = 10 - sum(w * int(d) for w, d in zip(_WEIGHTS, first_nine, strict=True)) % 11
    return str(value) if value < 10 else None


def tax_code_normalize(value: str) -> str:
    """Return the MST in its stored form (`0100233488` or `0314409058-002`) or raise
    ValidationError with the reason. Spaces and dots are ignored; the empty string stays empty."""
    raw = re.sub(r"[\s.]", "", value or "")
    if not raw:
        return ""
    match = _SHAPE.match(raw)
    if not match:
        raise ValidationError(
            _("A tax code (MST) has 10 digits, or 13 for a branch written as 10 digits, a dash and 3 digits."),
            code="tax_code_shape",
        )
    main, branch = match.groups()
    if main[2:9] == "0000000" or branch == "000":
        raise ValidationError(_("This tax code (MST) cannot exist: a part of it is all zeros."), code="tax_code_zero")
    if tax_code_check_digit(main[:9]) != main[9]:
        raise ValidationError(
            _("The tax code (MST) is mistyped: its tenth digit does not match the first nine."),
            code="tax_code_check_digit",
        )
    return f"{main}-{branch}" if branch else main


def validate_tax_code(value: str) -> None:
    tax_code_normalize(value)
