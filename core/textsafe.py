"""Text that PostgreSQL can store, and JSON that a reader can walk (issue 15, attack 14).

PostgreSQL text holds neither NUL (U+0000) nor, encoded as UTF-8, a lone surrogate
(U+D800-U+DFFF: JSON's `\\ud800` decodes to one). Either one in a value fails the whole INSERT
that carries it, so data from outside (submissions, card files, code lists) is checked here,
where the offending value can still be named and refused alone. JSON nested deeper than any
document the portal accepts is refused before anything recurses into it.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Whether PostgreSQL can store `text` (no NUL, no lone surrogate)."""
    return _UNSTORABLE.search(text) is None


def json_poison(doc, *, max_depth: int) -> tuple[str, str] | None:
    """The first problem of a decoded JSON document, without recursion: ("depth", path) when a
    container is nested more than `max_depth` deep, ("character", path) when a key or a string
    cannot be stored; None when the document is clean. `path` is like `entry[0].resource.name`."""
    stack: list[tuple[object, str, int]] = [(doc, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if not storable(value):
                return ("character", path)
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                return ("depth", path)
            items = value.items() if isinstance(value, dict) else ((f"[{i}]", v) for i, v in enumerate(value))
            for key, item in items:
                if isinstance(value, dict) and not storable(key):
                    return ("character", f"{path}.{key!r}".lstrip("."))
                child = f"{path}{key}" if isinstance(value, list) else f"{path}.{key}".lstrip(".")
                stack.append((item, child, depth + 1))
    return None
