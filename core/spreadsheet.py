"""Text cells of CSV/XLSX exports that a spreadsheet would run as a formula (CSV injection).

A cell starting with = + - @ (or a tab / carriage return) is prefixed with an apostrophe, which
office programs show as plain text. `unquote_formula` undoes it when such a file is imported
back, so that an export re-imports unchanged. Every CSV/XLSX export uses this module (a test,
tests/core/test_spreadsheet_everywhere.py, refuses a second copy of the rule).
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unquote_formula(value):
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value
