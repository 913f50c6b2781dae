"""Every page of every role reads in Vietnamese (issue 18).

The crawl of the security suite (every URL pattern and every link found, as each actor) is
rendered in Vietnamese; a visible text (a text node, or a placeholder, title or aria-label) that
equals one of the project's own English msgids is an untranslated string, and one that contains
a line of wrong_vietnamese.txt is a known wrong translation or a developer note on a user page.

Every browser in the crawl asks for English (Accept-Language: en-US): the portal is Vietnamese
for every visitor unless the user chose English. Besides the security world, doctor_a has a
citizen in care (a visit with labs, drugs, a note and a discharge paper at facility A), and every
URL of the book (walked from the resolver, as test_every_book_url does) is a crawl seed, so the
doctor's pages are read with content; the test then checks that every HTML page of the portal
(every URL pattern a role may open, from url_rules) answered at least once with a page.
"""

from html.parser import HTMLParser
from pathlib import Path

from django.urls import Resolver404, resolve, reverse

from tests.security import crawl as crawl_module
from tests.security import url_rules
from tests.security.conftest import body_text
from tests.security.crawl import crawl, endpoints, is_api
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


def _patient_in_care(world) -> dict:
    """A citizen seen at doctor_a's facility, and the values of the book URLs' parameters."""
    from healthbook.models import DischargePaper
    from tests.factories import province
    from tests.healthbook.book import factories as d

    person = d.citizen(name="Lê Thị Khám", province=province("01"))
    visit = d.visit(person.book, world.objects["facility_a"], labs=3, drugs=2, note="Huyết áp 150/95", dx="I10")
    d.discharge(visit)
    return {
        "public_id": person.book.public_id,
        "visit_id": visit.pk,
        "kind": "discharge",
        "cert_id": DischargePaper.objects.get(encounter=visit).pk,
    }


def _book_pages(values: dict) -> list[str]:
    """Every HTML page of the book (resolver names book-*), filled with the patient's values."""
    out = []
    for e in endpoints():
        if not (e.name or "").startswith("book-") or is_api(e):
            continue
        params = [name for name, _ in e.params]
        if all(name in values for name in params):
            out.append(
                reverse(e.name, kwargs={n: values[n] for n in params}) + ("?code=GLU" if "chart" in e.name else "")
            )
    return out


# Pages the crawl does not read with a 200, by reason; every other HTML page must be read.
NOT_PAGES = {
    "POST only: the form that sends it is on a page that is read": {
        "book-emergency",
        "book-share-code",
        "share-code-open",
        "facility-silent-remind",
        "codelists:concept-retire",
        "codelists:draft-discard",
        "codelists:draft-update",
        "codelists:import-confirm",
        "codelists:version-publish",
        "codelists:version-send-back",
        "codelists:version-submit",
        "emergency-review",
        "facility-cert-add",
        "facility-cert-revoke",
        "facility-decide",
        "facility-import-confirm",
        "facility-key-create",
        "facility-key-revoke",
        "language-set",
        "oauth-my-software-revoke",
        "set_language",
        "staff-approve",
        "staff-deactivate",
        "staff-reactivate",
        "submission-reprocess",
        "submission-review",
    },
    "a file, not a page": {
        "book-certificate-file",
        "ph-line-list-export",
        "card-batch-rejected",
        "codelists:version-export",
        "codelists:version-impact-export",
        "data-protection-csv",
        "cohorts-detail-export",
        "cohorts-national-export",
        "cohorts-province-export",
        "dashboard-national-export",
        "dashboard-province-communes-export",
        "dashboard-province-export",
        "facility-export",
        "mfa_download_recovery_codes",
    },
    "a redirect to a page that is read": {"cohorts-mine", "dashboard-mine", "facility-my-credentials", "favicon"},
    "a step of a flow the crawl's signed-in, enrolled users are not in (tests/e2e walk them)": {
        "account_confirm_login_code",
        "account_set_password",
        "codelists:import-preview",
        "mfa_activate_totp",
        "mfa_authenticate",
        "mfa_deactivate_totp",
        "mfa_generate_recovery_codes",
        "mfa_view_recovery_codes",
        "oauth-authorize",
    },
}


def _page_names(visits) -> set[str]:
    names = set()
    for visit in visits:
        if visit.response.status_code != 200 or "text/html" not in visit.response.get("Content-Type", ""):
            continue
        try:
            match = resolve(visit.path.split("?")[0])
        except Resolver404:
            continue
        names.add(match.view_name)
    return names


def test_every_page_of_every_role_reads_in_vietnamese(world, clients, monkeypatch):
    monkeypatch.setattr(crawl_module, "MAX_PAGES_PER_ACTOR", 1000)  # every page, not the first 250
    english = english_msgids()
    for client in clients.values():
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en-US,en;q=0.9"  # the browser asks for English
    book_pages = _book_pages(_patient_in_care(world))
    # an htmx fragment (hx-get, not a link): the progress of a card batch
    book_pages.append(reverse("card-batch-progress", args=[world.objects["card_batch_01"].public_id]))
    visits = [
        v
        for v in crawl(clients, start=[e.path() for e in endpoints()] + book_pages)
        if "text/html" in v.response.get("Content-Type", "")
    ]
    untranslated, wrong = set(), set()
    for visit in visits:
        for text in visible_texts(body_text(visit.response)):
            if text in english:
                untranslated.add(f"{visit.path} ({visit.actor}): {text!r}")
            wrong.update(f"{visit.path} ({visit.actor}): {w!r} in {text[:80]!r}" for w in WRONG if w in text)
    assert len(visits) > 100
    assert sorted(untranslated) == []
    assert sorted(wrong) == []
    read = _page_names(visits)
    assert {"book-detail", "book-visit", "book-labs", "book-lab-chart", "book-record"} <= read
    pages = {
        e.name
        for e in endpoints()
        if e.name and not is_api(e) and isinstance(e.rule, (url_rules.Roles, url_rules.SignedIn, url_rules.Public))
    }
    assert sorted(pages - read - set().union(*NOT_PAGES.values())) == []
