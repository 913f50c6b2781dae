"""S26, generated: every URL that shows citizen data is a view of the doctor branch's registry
(`healthbook.access.book_view_register`), so that it decides access and writes one access-log
entry. The per-call half (each registered view called allowed and refused, exactly one log entry
each time, no clinical detail in a refusal) is `tests/healthbook/book/test_every_book_url.py`; this census
ties the registry to the URL resolver and to url_rules: every URL under the book prefixes, and
every URL whose rule names a book, must be registered.
"""

from healthbook.book.access import BOOK_URL_PREFIXES, BOOK_VIEWS
from tests.security.crawl import endpoints
from tests.security.url_rules import Machine, Roles


def _registered(callback) -> bool:
    view = getattr(callback, "cls", None) or callback
    return getattr(view, "book_access", None) is not None and (f"{view.__module__}.{view.__qualname__}" in BOOK_VIEWS)


def test_s26_every_citizen_data_url_is_a_registered_logging_view(proof):
    row = proof.row(
        "S26",
        "every URL under /doctor/, /api/v1/citizens/, /fhir/Patient or whose rule names a "
        "book is a registered view (access decided + one log entry: tests/healthbook/book)",
    )
    citizen_urls = [
        e
        for e in endpoints()
        if e.route.startswith(BOOK_URL_PREFIXES) or (isinstance(e.rule, Roles) and e.rule.obj == "book")
    ]
    missing = [e.label for e in citizen_urls if not _registered(e.callback)]
    machine = sum(isinstance(e.rule, Machine) for e in citizen_urls)
    row.set(
        times=len(citizen_urls),
        figure=f"{len(citizen_urls)} citizen-data URLs ({machine} API-key only), {len(missing)} not in the registry",
    )
    assert citizen_urls, "no citizen-data URL found: the census would prove nothing"
    assert not missing, missing
