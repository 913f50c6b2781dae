"""Vietnamese personal names: storage form and search form.

* :func:`normalize_name` -- the form to store and display: Unicode NFC
  (security-plan S14: NFC/NFD variants of the same name must match), with
  surrounding whitespace removed and inner whitespace runs (incl. NBSP,
  tabs, line breaks) collapsed to one space.  Case and tone-mark placement
  are kept as typed ("Hoà" and "Hòa" stay different: both spellings are in
  use and the citizen's own spelling must be preserved).
* :func:`search_name` -- the form to index and compare: lower case,
  diacritics removed, đ/Đ -> d, whitespace collapsed:
  "Nguyễn Văn An" -> "nguyen van an".  It makes "Hoà"/"Hòa", NFC/NFD and
  upper/lower case input meet.

Pure Python (``unicodedata`` and ``str.translate`` with a lazily filled
table), no per-character Python loop.
"""

from __future__ import annotations

import unicodedata

__all__ = ["edit_distance", "normalize_name", "search_name"]


def normalize_name(s: str | None) -> str:
    """NFC, trimmed, inner whitespace collapsed to single spaces.  None -> ""."""
    if not s:
        return ""
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
    return " ".join(s.split())


# Letters whose decomposition does not remove the "stroke" (đ, ø, ł, ...).
_STROKE = {
    "đ": "d",
    "Đ": "d",
    "ð": "d",
    "Ð": "d",
    "ø": "o",
    "Ø": "o",
    "ł": "l",
    "Ł": "l",
    "ħ": "h",
    "Ħ": "h",
    "ŧ": "t",
    "Ŧ": "t",
}


class _FoldTable(dict):
    """Code point -> base letter (lower case) or None for combining marks.

    Filled on first use of each code point, so the cost is paid once per
    distinct character, and ``str.translate`` does the per-string work in C.
    """

    def __missing__(self, cp: int):
        ch = chr(cp)
        if ch in _STROKE:
            result: str | int | None = _STROKE[ch]
        elif unicodedata.combining(ch):
            result = None
        else:
            decomposed = unicodedata.normalize("NFD", ch.lower())
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            base = "".join(_STROKE.get(c, c) for c in base)
            result = cp if base == ch else base
        self[cp] = result
        return result


_FOLD = _FoldTable()


def search_name(s: str | None) -> str:
    """Lower case, no diacritics, đ -> d, single spaces.  None -> ""."""
    if not s:
        return ""
    if s.isascii():
        return " ".join(s.lower().split())
    # translate() handles precomposed letters (NFC input) and drops
    # combining marks (NFD input) in one pass.
    return " ".join(s.translate(_FOLD).split())


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
    adjacent letters ("ngyuen" -> "nguyen": 1) each count one. For single words (short)."""
    if a == b:
        return 0
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        before, previous = previous, current
    return previous[-1]
