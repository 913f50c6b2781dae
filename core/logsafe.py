"""Log lines and security records that hostile input cannot split, forge or colour.

A username, header or file name may carry CR/LF (a forged second line), terminal escapes (an
operator's screen rewritten) or other control characters. `escape_controls` turns each into a
visible escape (\\r, \\n, \\x1b …), so one event stays one line and keeps what was typed.
"""

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def escape_controls(text: str) -> str:
    return _CONTROL.sub(
        lambda m: _NAMED.get(
            m.group(), f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


class SingleLineFormatter(logging.Formatter):
    """The usual format, with control characters escaped: a traceback becomes one long line."""

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
