"""The doctor's pages: citizen search and the book (header, timeline, visit, labs,
vaccinations, pregnancies, prescriptions, follow-ups, certificates, clinical record, who viewed).

Every page that shows a citizen is decorated with `book_view`, which decides access and
writes the request's single access-log entry before the page runs (book.access).
"""

import functools
import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accesslog.models import Outcome
from accesslog.selectors import book_viewers
from accesslog.services import EMERGENCY_CAP_CODE, Actor, access_log_record, emergency_access_start
from core.privacy import mask_id
from core.replicas import lag_tolerant
from geo.models import Province
from healthbook import identifiers as ids
from healthbook.book import header, record, selectors
from healthbook.book.access import (
    CLOSED_BY_CITIZEN,
    BookAccessDenied,
    book_get_for_user,
    book_lookup,
    book_open_expr,
    book_view_register,
    can_read_books,
)
from healthbook.book.finder import citizens_find
from healthbook.book.forms import (
    KIND_LABELS,
    CitizenSearchForm,
    EmergencyAccessForm,
    ShareCodeForm,
    TimelineFilterForm,
)
from healthbook.consent.services import CODE_TOO_MANY, share_code_redeem
from healthbook.models import HealthBook
from healthbook.names import search_name
from healthbook.notifications import selectors as notification_selectors


def book_view(viewed, *, event: str = "view"):
    """Decorate a page `view(request, access, **kwargs)` whose URL carries `public_id`: sign-in
    required, access decided and logged once (`viewed` is a string or a function of the URL
    kwargs and the query string), `access` passed in; a doctor without a relationship gets the
    emergency form (403).
    `?print=1` logs the open as a print."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, public_id, **kwargs):
            if not request.user.is_authenticated:
                from django.contrib.auth.views import redirect_to_login

                return redirect_to_login(request.get_full_path())
            what = viewed(kwargs, request.GET) if callable(viewed) else viewed
            kind = "print" if request.GET.get("print") == "1" else event
            try:
                access = book_get_for_user(request.user, public_id, viewed=what, request=request, event=kind)
            except BookAccessDenied as denied:
                return denied_response(request, denied.book, EmergencyAccessForm(), reason=denied.reason)
            # Access is decided and logged (on the primary): the page's content may come from a
            # replica that has the book's content as the decision saw it.
            with lag_tolerant(fresh=functools.partial(replica_has_book_version, access.book)):
                return view(request, access, **kwargs)

        return book_view_register("book")(wrapped)

    return decorator


# The book's page URLs, reversed once per process (per script prefix) with a probe id and then
# completed by string replacement: a book page links to its nine tabs and to each visit, and
# reverse() costs ~20 µs a call.
BOOK_TAB_URL_NAMES = (
    "book-detail",
    "book-timeline",
    "book-labs",
    "book-vaccinations",
    "book-pregnancies",
    "book-prescriptions",
    "book-follow-ups",
    "book-certificates",
    "book-record",
    "book-access-log",
)
_PROBE_BOOK = "5e5e5e5e-0000-4000-8000-5e5e5e5e5e5e"
_PROBE_VISIT = 987_654_321


@functools.lru_cache(maxsize=8)
def _book_url_templates(script_prefix: str) -> dict[str, str]:
    urls = {name.replace("-", "_"): reverse(name, kwargs={"public_id": _PROBE_BOOK}) for name in BOOK_TAB_URL_NAMES}
    visit = reverse("book-visit", kwargs={"public_id": _PROBE_BOOK, "visit_id": _PROBE_VISIT})
    urls["visit_prefix"], urls["visit_suffix"] = visit.split(str(_PROBE_VISIT))
    return urls


def replica_has_book_version(book, replica) -> bool:
    """Whether a replica holds the book's content version the access decision read on the
    primary: the pages cache what they render under that version, so a replica behind it must
    not serve them (core.replicas, `fresh=`)."""
    with replica.cursor() as cur:
        cur.execute("SELECT content_version FROM healthbook_book WHERE id = %s", [book.pk])
        row = cur.fetchone()
    return row is not None and row[0] == book.content_version


def book_urls(public_id) -> dict[str, str]:
    """{"book_timeline": "/doctor/books/<id>/timeline/", …, "visit_prefix"/"visit_suffix"}."""
    value = str(public_id)
    return {k: v.replace(_PROBE_BOOK, value) for k, v in _book_url_templates(get_script_prefix()).items()}


def denied_response(request, book, form, *, status: int = 403, reason: str = "", share_form=None):
    """The page a doctor sees without a care relationship, or when the citizen closed the book
    (`reason` CLOSED_BY_CITIZEN): why, the minimal identity, the share-code form and the
    emergency form."""
    citizen = book.citizen
    return render(
        request,
        "healthbook/book_denied.html",
        {
            "book": book,
            "citizen": citizen,
            "masked_id": mask_id(citizen.personal_id),
            "form": form,
            "share_form": share_form or ShareCodeForm(),
            "closed": reason == CLOSED_BY_CITIZEN,
        },
        status=status,
    )


def _book_context(request, access, tab: str, **extra) -> dict:
    return {
        "access": access,
        "book": access.book,
        "citizen": access.citizen,
        "masked_id": mask_id(access.citizen.personal_id),
        "header": header.book_header(access),
        "urls": book_urls(access.book.public_id),
        "today": timezone.localdate(),
        "fragment_seconds": settings.BOOK_FRAGMENT_SECONDS,
        "tab": tab,
        "printing": request.GET.get("print") == "1",
        **extra,
    }


# ---------------------------------------------------------------- search


@login_required
@require_http_methods(["GET", "POST"])
@book_view_register("search")
def citizen_search_view(request):
    """Find a citizen; results show name, birth year, sex, province and a masked ID only, with
    whether the doctor's facility has a care relationship with each. The search is POSTed, so a
    personal ID typed here never lands in a URL (nor in request or proxy logs); GET shows the
    empty form, whatever its query string says.

    An exact personal ID, insurance or card number goes straight to the book (whose page decides
    access and logs the opening). Names are ranked by relevance among up to SEARCH_CANDIDATES
    candidates: the exact name first, then the people the doctor may open, then the closest
    names; the page shows the first SEARCH_LIMIT and says how many matched (or that more did)."""
    if not can_read_books(request.user):
        raise PermissionDenied
    form = CitizenSearchForm(request.POST if request.method == "POST" else None)
    results, more, total = None, False, None
    if form.is_valid():
        data = form.cleaned_data
        province = data.get("province")
        with lag_tolerant():  # a search may miss a citizen added a few seconds ago
            matches = citizens_find(
                query=data["q"],
                birth_year=data.get("birth_year"),
                province_id=province.pk if province else None,
                limit=SEARCH_CANDIDATES + 1,  # one more than ranked: the page says when there are more
            )
            total = len(matches) if len(matches) <= SEARCH_CANDIDATES else None
            results = [
                {"citizen": m.citizen, "score": m.score, "masked_id": mask_id(m.citizen.personal_id), "book": None}
                for m in matches[:SEARCH_CANDIDATES]
            ]
            _prefetch_books(results, facility=request.user.facility)
            results = search_ranked(results, data["q"])
            more, results = len(matches) > SEARCH_LIMIT, results[:SEARCH_LIMIT]
        digits = ids.normalize_code(data["q"])
        exact = len(results) == 1 and digits[-10:].isdigit() and len(digits) in (10, 12, 15)
        access_log_record(
            actor=Actor.for_user(request.user),
            event="search",
            viewed="search",
            outcome=Outcome.SUCCESS,
            citizen=results[0]["citizen"] if exact else None,
            request=request,
            details={"results": len(results), "by": "identifier" if exact else "name"},
        )
        if exact and results[0]["book"] is not None:
            return redirect("book-detail", results[0]["book"].public_id)
    return render(
        request,
        "healthbook/citizen_search.html",
        {
            "form": form,
            "results": results,
            "more": more,
            "total": total,
            "limit": SEARCH_LIMIT,
            "share_form": ShareCodeForm(),
        },
    )


@login_required
@require_POST
@book_view_register("share_code")
def share_code_open_view(request):
    """The search page's other way in: the share code alone names the citizen and, right and
    live for the doctor's facility, opens the book (issue 19). One log entry either way."""
    if not can_read_books(request.user):
        access_log_record(
            actor=Actor.for_user(request.user),
            event="share_code",
            viewed="book",
            outcome=Outcome.DENIED,
            request=request,
            details={"refused": "role"},
        )
        raise Http404
    form = ShareCodeForm(request.POST)
    try:
        book = share_code_redeem(request.user, request.POST.get("code", ""), request=request)
    except ValidationError as exc:
        form.is_valid()
        form.add_error("code", exc)
        context = {"form": CitizenSearchForm(), "results": None, "share_form": form, "limit": SEARCH_LIMIT}
        status = 429 if exc.code == CODE_TOO_MANY else 400
        return render(request, "healthbook/citizen_search.html", context, status=status)
    return redirect("book-detail", public_id=book.public_id)


SEARCH_LIMIT = 20
SEARCH_CANDIDATES = 200


def search_ranked(results: list[dict], query: str) -> list[dict]:
    """Most relevant first: the name exactly as typed, then a care relationship with the doctor's
    facility, then the closest names (similarity), then by name."""
    wanted = search_name(query)

    def key(r):
        may_open = bool(r["book"] is not None and getattr(r["book"], "may_open", False))
        return (r["citizen"].search_name != wanted, not may_open, -r["score"], r["citizen"].search_name)

    return sorted(results, key=key)


def _prefetch_books(results: list[dict], *, facility=None) -> None:
    """Attach each result's book, whether the doctor's facility has a care relationship with the
    citizen (one query for all of them), and the province of residence (one more)."""
    if not results:
        return
    books = HealthBook.objects.filter(citizen_id__in=[r["citizen"].pk for r in results]).only("public_id", "citizen")
    if facility is not None:
        books = books.annotate(may_open=book_open_expr(facility))
    by_citizen = {b.citizen_id: b for b in books}
    province_ids = {r["citizen"].residence_province_id for r in results} - {None}
    provinces = {p.pk: p for p in Province.objects.filter(pk__in=province_ids)} if province_ids else {}
    for r in results:
        r["book"] = by_citizen.get(r["citizen"].pk)
        r["province"] = provinces.get(r["citizen"].residence_province_id)


# ---------------------------------------------------------------- emergency access


@login_required
@require_POST
@book_view_register("emergency")
def emergency_access_view(request, public_id):
    """Start an emergency access (reason required) and open the book; one log entry."""
    book = book_lookup(public_id).first()
    actor = Actor.for_user(request.user)
    if book is None or not can_read_books(request.user):
        access_log_record(
            actor=actor,
            event="emergency_start",
            viewed="book",
            outcome=Outcome.DENIED,
            citizen=book.citizen if book else None,
            book=book,
            request=request,
            details={"refused": "role" if book else "not_found"},
        )
        raise Http404
    form = EmergencyAccessForm(request.POST)
    refused, status = "no_reason", 400
    if form.is_valid():
        try:
            emergency_access_start(
                user=request.user,
                citizen=book.citizen,
                reason=form.cleaned_data["reason"],
                reason_text=form.cleaned_data["reason_text"],
                request=request,
                book=book,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            if getattr(exc, "code", None) == EMERGENCY_CAP_CODE:
                refused, status = EMERGENCY_CAP_CODE, 429
        else:
            return redirect("book-detail", public_id=book.public_id)
    access_log_record(
        actor=actor,
        event="emergency_start",
        viewed="book",
        outcome=Outcome.DENIED,
        citizen=book.citizen,
        book=book,
        request=request,
        details={"refused": refused},
    )
    return denied_response(request, book, form, status=status)


@login_required
@require_POST
@book_view_register("share_code")
def book_share_code_view(request, public_id):
    """A doctor enters the share code the citizen gave their facility (issue 19): right and
    live, the book opens to the facility; wrong, the refused page again (400, or 429 beyond
    the hourly limits). One log entry either way."""
    book = book_lookup(public_id).first()
    if book is None or not can_read_books(request.user):
        access_log_record(
            actor=Actor.for_user(request.user),
            event="share_code",
            viewed="book",
            outcome=Outcome.DENIED,
            citizen=book.citizen if book else None,
            book=book,
            request=request,
            details={"refused": "role" if book else "not_found"},
        )
        raise Http404
    form = ShareCodeForm(request.POST)
    try:
        share_code_redeem(request.user, request.POST.get("code", ""), book=book, request=request)
    except ValidationError as exc:
        form.is_valid()
        form.add_error("code", exc)
        status = 429 if exc.code == CODE_TOO_MANY else 400
        return denied_response(request, book, EmergencyAccessForm(), status=status, share_form=form)
    return redirect("book-detail", public_id=book.public_id)


# ---------------------------------------------------------------- the book


@require_GET
@book_view("book")
def book_detail_view(request, access):
    recent = selectors.TimelinePage(access, selectors.TimelineFilter(), limit=10, paged=False)
    ctx = _book_context(request, access, "overview", timeline=recent, viewers=book_viewers(access.citizen.pk))
    return render(request, "healthbook/book_detail.html", ctx)


def _timeline_filter(form) -> selectors.TimelineFilter:
    if not form.is_valid():
        return selectors.TimelineFilter()
    data = form.cleaned_data
    return selectors.TimelineFilter(
        kinds=tuple(data["kind"]) or selectors.TIMELINE_KINDS,
        facility_code=data["facility"] or None,
        date_from=data["date_from"],
        date_to=data["date_to"],
    )


@require_GET
@book_view("timeline")
def book_timeline_view(request, access):
    form = TimelineFilterForm(request.GET)
    flt = _timeline_filter(form)
    raw_before = request.GET.get("before")
    query = request.GET.copy()
    query.pop("before", None)
    query = query.urlencode()
    page = selectors.TimelinePage(
        access, flt, before=selectors.parse_cursor(raw_before), key=f"{query}|{raw_before or ''}"
    )
    ctx = {
        "access": access,
        "book": access.book,
        "timeline": page,
        "query": query,
        "kind_labels": KIND_LABELS,
        "urls": book_urls(access.book.public_id),
        "fragment_seconds": settings.BOOK_FRAGMENT_SECONDS,
    }
    if request.headers.get("HX-Request"):
        return render(request, "healthbook/partials/timeline_rows.html", ctx)
    facilities = functools.partial(selectors.facilities_in_book, access)  # read only when not cached
    ctx.update(_book_context(request, access, "timeline", form=form, facilities=facilities))
    return render(request, "healthbook/book_timeline.html", ctx)


@require_GET
@book_view(lambda kw, _query: f"visit:{kw['visit_id']}")
def book_visit_view(request, access, visit_id):
    detail = selectors.visit_detail(access, visit_id)
    if detail is None:
        raise Http404
    visit = detail["visit"]
    detail.update(record.visit_record(visit, sensitive=record.sensitive_allowed(request.user, access, visit)))
    return render(request, "healthbook/book_visit.html", _book_context(request, access, "timeline", **detail))


@require_GET
@book_view("labs")
def book_labs_view(request, access):
    ctx = _book_context(request, access, "labs", indicators=selectors.lab_indicators(access))
    return render(request, "healthbook/book_labs.html", ctx)


@require_GET
@book_view(lambda _kw, query: f"lab:{query.get('code', '')}".replace("\x00", "")[:200])
def book_lab_chart_view(request, access):
    """One indicator's chart; its code comes as `?code=` (any characters a facility sent)."""
    code = request.GET.get("code", "")
    if not code or "\x00" in code:  # no stored code holds NUL (PostgreSQL text cannot)
        raise Http404
    series = selectors.lab_series(access, code)
    if not series["rows"]:
        raise Http404
    chart = json.dumps(
        {
            "label": series["name"],
            "unit": series["unit"],
            "points": series["points"],
            "band": series["band"],
            "band_label": gettext("Reference range"),
        }
    )
    ctx = _book_context(request, access, "labs", series=series, chart=chart)
    return render(request, "healthbook/book_lab_chart.html", ctx)


@require_GET
@book_view("vaccinations")
def book_vaccinations_view(request, access):
    ctx = _book_context(request, access, "vaccinations", schedule=header.vaccination_record(access))
    return render(request, "healthbook/book_vaccinations.html", ctx)


@require_GET
@book_view("pregnancies")
def book_pregnancies_view(request, access):
    ctx = _book_context(request, access, "pregnancies", pregnancies=selectors.pregnancies(access))
    return render(request, "healthbook/book_pregnancies.html", ctx)


@require_GET
@book_view("prescriptions")
def book_prescriptions_view(request, access):
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    groups, more = selectors.prescriptions(access, page=page)
    ctx = _book_context(request, access, "prescriptions", prescriptions=groups, page=page, more=more)
    return render(request, "healthbook/book_prescriptions.html", ctx)


@require_GET
@book_view("follow-ups")
def book_follow_ups_view(request, access):
    """Follow-up appointments, and the reminders and notices sent to the citizen with their
    delivery state (healthbook.notifications)."""
    ctx = _book_context(
        request,
        access,
        "follow_ups",
        follow_ups=selectors.follow_ups(access),
        reminders=notification_selectors.reminders_with_delivery(access.citizen),
        notices=notification_selectors.other_messages_for(access.citizen),
    )
    return render(request, "healthbook/book_follow_ups.html", ctx)


@require_GET
@book_view("certificates")
def book_certificates_view(request, access):
    ctx = _book_context(request, access, "certificates", certificates=selectors.certificates(access))
    return render(request, "healthbook/book_certificates.html", ctx)


@require_GET
@book_view(lambda kw, _query: f"certificate:{kw['kind']}:{kw['cert_id']}"[:200])
def book_certificate_view(request, access, kind, cert_id):
    """One certificate opened: content, signer, signing submission, verification state."""
    cert = record.certificate(access, kind, cert_id)
    if cert is None:
        raise Http404
    return render(request, "healthbook/book_certificate.html", _book_context(request, access, "certificates", **cert))


@require_GET
@book_view(lambda kw, _query: f"certificate-file:{kw['kind']}:{kw['cert_id']}"[:200], event="download")
def book_certificate_file_view(request, access, kind, cert_id):
    """The stored file of a certificate (a PDF as sent, anything else as a plain download), or a
    paper's fields as received; access checked and logged like every book read."""
    found = record.certificate_file(access, kind, cert_id)
    if found is None:
        raise Http404
    data, content_type, name = found
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@book_view("record")
def book_record_view(request, access):
    """Allergies, problems and diagnoses, procedures, diagnostic reports, vital signs, medication
    statements and what was kept as received (book.record)."""
    ctx = _book_context(request, access, "record", **record.clinical_record(access))
    return render(request, "healthbook/book_record.html", ctx)


@require_GET
@book_view("access-log")
def book_access_log_view(request, access):
    ctx = _book_context(request, access, "access_log", viewers=book_viewers(access.citizen.pk, limit=200))
    return render(request, "healthbook/book_access_log.html", ctx)
