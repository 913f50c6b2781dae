"""Every page of every role reads in Vietnamese (issue 18).

The crawl of the security suite (every URL pattern and every link found, as each actor) is
rendered in Vietnamese; a visible text (a text node, or a placeholder, title or aria-label) that
equals one of the project's own English msgids is an untranslated string, and one that contains
a line of wrong_vietnamese.txt is a known wrong translation or a developer note on a user page.
"""

from html.parser import HTMLParser
from pathlib import Path

from tests.security.conftest import body_text
from tests.security.crawl import crawl
from tests.test_translations import CATALOGS, _entries

WRONG = [
    line.strip()
    for line in (Path(__file__).with_name("wrong_vietnamese.txt")).read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


def english_msgids() -> set[str]:
    """The English source of every string the project translates differently into Vietnamese."""
    out = set()
    for po in CATALOGS:
        for key, msgstr, _fuzzy in _entries(po):
            msgid = key.split("\x04")[-1]
            if msgstr and msgstr != msgid and len(msgid) > 2 and "%(" not in msgid and "{" not in msgid:
                out.add(" ".join(msgid.split()))
    return out


class _Texts(HTMLParser):
    """Visible texts, without code, scripts, elements marked as another language (the language
    switch's "English") and the administrators' technical notes (data-technical-note)."""

    SKIP = {"script", "style", "template", "code", "pre"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self._skipping, self._stack = [], 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = tag in self.SKIP or attrs.get("lang", "vi") != "vi" or "data-technical-note" in attrs
        if tag not in self.VOID:
            self._stack.append((tag, skip))
            self._skipping += skip
        if not self._skipping and not skip:
            self.texts += [attrs[name] for name in VISIBLE_ATTRIBUTES if attrs.get(name)]

    def handle_endtag(self, tag):
        while self._stack:
            open_tag, skip = self._stack.pop()
            self._skipping -= skip
            if open_tag == tag:
                break

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return [" ".join(t.split()) for t in parser.texts]


def test_every_page_of_every_role_reads_in_vietnamese(world, clients):
    english = english_msgids()
    visits = [v for v in crawl(clients) if "text/html" in v.response.get("Content-Type", "")]
    untranslated, wrong = set(), set()
    for visit in visits:
        for text in visible_texts(body_text(visit.response)):
            if text in english:
                untranslated.add(f"{visit.path} ({visit.actor}): {text!r}")
            wrong.update(f"{visit.path} ({visit.actor}): {w!r} in {text[:80]!r}" for w in WRONG if w in text)
    assert len(visits) > 100
    assert sorted(untranslated) == []
    assert sorted(wrong) == []
