"""Log lines and security records that hostile input cannot split, forge or colour, and that
never carry a personal ID.

A username, header or file name may carry CR/LF (a forged second line), terminal escapes (an
operator's screen rewritten) or other control characters. `escape_controls` turns each into a
visible escape (\\r, \\n, \\x1b …), so one event stays one line and keeps what was typed.

Log lines go to files, collectors and proxies that the access rules do not cover, so a personal
ID must never reach them (issue 15, point 8). `mask_personal_ids` hides every ID-shaped number —
a run of 9 to 12 digits (the citizen ID of 12, the old identity card of 9, the social insurance
number of 10) and a health-insurance card number (2 letters and 13 digits) — except its last 3
digits. `PersonalIdFilter` applies it to every record of every handler it is attached to:
Django's (LOGGING) and the Celery worker's (config.celery).
"""

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


# Not part of a longer run of digits or letters: a 13-digit timestamp or a UUID fragment stays.
_ID_SHAPED = re.compile(r"(?<![0-9A-Za-z])(?:[A-Z]{2}[0-9]{10}|[0-9]{6})([0-9]{0,3})([0-9]{3})(?![0-9A-Za-z])")


def _mask(match: re.Match) -> str:
    whole = match.group(0)
    if not (9 <= len(whole) <= 12 or len(whole) == 15):
        return whole
    return "*" * (len(whole) - 3) + whole[-3:]


def mask_personal_ids(text: str) -> str:
    """`text` with every ID-shaped number masked but for its last 3 digits."""
    return _ID_SHAPED.sub(_mask, text)


class PersonalIdFilter(logging.Filter):
    """Mask personal IDs in a record's message (its arguments merged in first), and in the
    exception text, before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a broken format string is logged as it is
            return True
        masked = mask_personal_ids(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_ids(record.exc_text)
        return True


def escape_controls(text: str) -> str:
    return _CONTROL.sub(
        lambda m: _NAMED.get(
            m.group(), f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


class SingleLineFormatter(logging.Formatter):
    """The usual format, with control characters escaped: a traceback becomes one long line.
    (Personal IDs are masked once, by PersonalIdFilter on the handler, before formatting.)"""

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class RefusedRequestFilter(logging.Filter):
    """One short line per refused request (4xx): Django's request logger says why ("Forbidden
    (Permission denied): /staff/"), without the traceback of the PermissionDenied that is the
    normal way to refuse; the development server's access line for the same request is dropped.
    Server errors (5xx) keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is None or not 400 <= status < 500:
            return True
        if record.name == "django.server":
            return False
        record.exc_info, record.exc_text = None, None
        return True
