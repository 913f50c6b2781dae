"""Who may read a citizen's book: the care-relationship rule, emergency access, and the one
access-log entry of each read.

A doctor may open a book when the citizen has a care relationship with the doctor's
facility — a visit there within SSKDT_CARE_RELATIONSHIP_MONTHS, a check-in there within
SSKDT_CHECKIN_HOURS, or the facility is the primary-care facility (MA_DKBD) of the citizen's
current, valid card — or holds an unexpired emergency access to it. Facts from facility data
open a book only to the facility that sent them and only from the time they happened: a
referral or a follow-up slip naming another facility opens nothing (that facility gets access
when it checks the patient in), and a record dated in the future opens nothing until then.
Nobody else reads clinical detail: province officers, ministry staff and facility
administrators get the same 404 as for a book that does not exist. A doctor (who can find any
citizen in the search) gets a 403 with the emergency form instead, showing only the minimal
identity of the search results.

The citizen's consent (issue 19) is read by the same decision: a book the citizen closed
(to everyone or to the reader's facility; healthbook.models.BookClosure) opens to no care
relationship — the doctor is told the citizen closed it — but still opens in an emergency
(flagged in the citizen's log); a share code the citizen gave the reader's facility, once a
doctor of that facility entered it (healthbook.consent.services.share_code_redeem), opens the
book to that facility until the code expires or is revoked, closed or not.

Every page, API and export that shows a citizen's history asks `book_get_for_user`, which
decides and writes the one access-log entry of the request. Facility software reads for a
named doctor of its facility (`facility_book_access`): the same rule, the same log, as
software acting for that doctor.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accesslog.models import ActorKind, EmergencyAccess, Outcome, Purpose
from accesslog.services import EMERGENCY_CAP_CODE, Actor, access_log_record, emergency_access_start
from accounts.models import User
from core.api import ApiError
from core.compiled import CompiledQuery
from core.roles import Role, has_role
from facilities.models import Facility
from geo.models import Commune
from healthbook.book.selectors import tune_connection_for_pages
from healthbook.models import (
    BookClosure,
    CheckIn,
    Citizen,
    Encounter,
    HealthBook,
    InsuranceCard,
    ShareCodeAttempt,
)

BOOK_READER_ROLES = (Role.DOCTOR,)


def can_read_books(user) -> bool:
    """Doctors at a facility (the only role that reads clinical detail) whose account the
    province confirmed (accounts: User.is_pending), at a facility that is not stopped: the
    doctors of a suspended, closed or rejected facility read nothing by any path (pages, APIs,
    emergency access; issue 15, attack 8). The facility is joined to the request's user
    (accounts.backends) and to a token's doctor, so this asks no query."""
    return (
        has_role(user, *BOOK_READER_ROLES)
        and bool(getattr(user, "facility_id", None))
        and not getattr(user, "is_pending", True)
        and not user.facility.is_stopped
    )


@dataclass(frozen=True)
class CareWindow:
    """The times a care-relationship decision is made with: `since`/`until` bound the visits
    that count (the last SSKDT_CARE_RELATIONSHIP_MONTHS, never later than now + the clock
    skew: a record dated in the future opens nothing until then), `checkin_since` the
    check-ins (the last SSKDT_CHECKIN_HOURS), `today` the local date of the card's validity."""

    since: dt.datetime
    until: dt.datetime
    checkin_since: dt.datetime
    today: dt.date

    @classmethod
    def at(cls, now: dt.datetime | None = None) -> "CareWindow":
        now = now or timezone.now()
        return cls(
            since=now - relativedelta(months=settings.SSKDT_CARE_RELATIONSHIP_MONTHS),
            until=now + dt.timedelta(minutes=settings.SSKDT_CLOCK_SKEW_MINUTES),
            checkin_since=now - dt.timedelta(hours=settings.SSKDT_CHECKIN_HOURS),
            today=timezone.localdate(now),
        )


# Each source returns an Exists() over rows linking a HealthBook row (OuterRef "pk" or
# "citizen_id") to the facility within the window; each probes an index led by the book. Only
# facts the facility itself created (its visits, its check-ins) or the card import set (the
# primary-care facility) count: a referral (MA_NOI_DEN) or a follow-up slip naming another
# facility opens nothing, and follow-up dates, in the future by nature, open nothing either.
CareSource = Callable[[object, CareWindow], Exists]


def _primary_care_card(facility, window: CareWindow) -> Exists:
    return Exists(
        InsuranceCard.objects.filter(
            citizen_id=OuterRef("citizen_id"), primary_care_facility_code=facility.code, valid_from__lte=window.today
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=window.today))
    )


def _visit_at_facility(facility, window: CareWindow) -> Exists:
    return Exists(
        Encounter.objects.filter(
            book_id=OuterRef("pk"),
            facility_id=facility.pk,
            occurred_at__gte=window.since,
            occurred_at__lte=window.until,
        )
    )


def _checked_in_at_facility(facility, window: CareWindow) -> Exists:
    return Exists(_current_check_ins(facility, window))


def _current_check_ins(facility, window: CareWindow) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(
        book_id=OuterRef("pk"), facility_id=facility.pk, last_at__gte=window.checkin_since, last_at__lte=window.until
    )


CARE_SOURCES: list[CareSource] = [
    _primary_care_card,
    _visit_at_facility,
    _checked_in_at_facility,
]


def care_relationship_since(now=None):
    return CareWindow.at(now).since


def care_relationship_expr(facility, *, window: CareWindow | None = None) -> ExpressionWrapper:
    """A boolean SQL expression over HealthBook rows: a care relationship with the facility
    (the window defaults to the one ending now)."""
    window = window or CareWindow.at()
    condition = Q()
    for source in CARE_SOURCES:
        condition |= Q(source(facility, window))
    return ExpressionWrapper(condition, output_field=BooleanField())


def _closed(facility_pk) -> Exists:
    """The citizen closed the book to everyone or to this facility (and has not reopened it):
    one probe of the index of live closures, led by the citizen."""
    return Exists(
        BookClosure.objects.filter(citizen_id=OuterRef("citizen_id"), revoked_at__isnull=True).filter(
            Q(facility__isnull=True) | Q(facility_id=facility_pk)
        )
    )


def _shared(facility_pk, now) -> Exists:
    """A doctor of this facility entered a share code the citizen issued for it, and the code
    is still live: one probe of the index of right codes, led by the citizen."""
    return Exists(
        ShareCodeAttempt.objects.filter(
            citizen_id=OuterRef("citizen_id"),
            facility_id=facility_pk,
            ok=True,
            code__revoked_at__isnull=True,
            code__expires_at__gt=now,
        )
    )


def book_open_expr(facility, *, window: CareWindow | None = None, now=None) -> ExpressionWrapper:
    """A boolean SQL expression over HealthBook rows: the facility may open the book without an
    emergency — a care relationship the citizen has not closed, or a live share code."""
    now = now or timezone.now()
    window = window or CareWindow.at(now)
    condition = (Q(care_relationship_expr(facility, window=window)) & ~Q(_closed(facility.pk))) | Q(
        _shared(facility.pk, now)
    )
    return ExpressionWrapper(condition, output_field=BooleanField())


def _checked_in_at(facility, window: CareWindow) -> Subquery:
    """The time of the newest current check-in at the facility (what the citizen's access log
    says: "… checked you in at …"), or NULL."""
    return Subquery(_current_check_ins(facility, window).order_by("-last_at").values("occurred_at")[:1])


def _emergency_until(user_id, now=None) -> Subquery:
    return Subquery(
        EmergencyAccess.objects.filter(
            user_id=user_id, citizen_id=OuterRef("citizen_id"), expires_at__gt=now or timezone.now()
        )
        .order_by("-expires_at")
        .values("expires_at")[:1]
    )


def books_visible_to(user) -> QuerySet[HealthBook]:
    """Return the books whose clinical detail the user may read now."""
    if not can_read_books(user):
        return HealthBook.objects.none()
    return HealthBook.objects.annotate(
        may_open=book_open_expr(user.facility), emergency_until=_emergency_until(user.pk)
    ).filter(Q(may_open=True) | Q(emergency_until__isnull=False))


@dataclass(frozen=True)
class BookAccess:
    """The outcome of an allowed open: the book, its citizen, and why it is open."""

    book: HealthBook
    citizen: Citizen
    purpose: str  # Purpose.TREAT or Purpose.ETREAT
    emergency_until: object | None


NO_CARE_RELATIONSHIP = "no_care_relationship"
CLOSED_BY_CITIZEN = "closed_by_citizen"


class BookAccessDenied(PermissionDenied):
    """A doctor without a care relationship or emergency access, or whose relationship the
    citizen closed (`reason`; 403, emergency form offered)."""

    def __init__(self, book: HealthBook, reason: str = NO_CARE_RELATIONSHIP):
        super().__init__(reason.replace("_", " "))
        self.book = book
        self.reason = reason


BOOK_RELATED = ("citizen", "citizen__card", "citizen__residence_province")


def _residence_commune_name() -> Subquery:
    """The name of the citizen's commune of residence, in the book's own query (no extra one);
    NULL when the code is blank or not one of the 3,321 communes."""
    return Subquery(Commune.objects.filter(code=OuterRef("citizen__residence_commune_code")).values("name_vi")[:1])


def book_lookup(public_id):
    """Find the book by its public id (or a citizen's 12-digit personal ID)."""
    qs = HealthBook.objects.select_related(*BOOK_RELATED).annotate(residence_commune_name=_residence_commune_name())
    value = str(public_id)
    if len(value) == 12 and value.isdigit():
        return qs.filter(citizen__personal_id=value)
    try:
        return qs.filter(public_id=value) if len(value) == 36 else qs.none()
    except (ValueError, TypeError):
        return qs.none()


# The decision for a reader (a doctor at a facility), compiled once per thread and run with the
# request's values (core.compiled): the same queryset as book_lookup + the annotations.
# CARE_SOURCES is read when a thread first decides: extend it at import time, not later.
_S = {
    "facility_pk": -730_999_101,
    "facility_code": "\x1fsskdt:facility-code\x1f",
    "since": dt.datetime(1901, 1, 1, 1, 1, 1, 101, tzinfo=dt.UTC),
    "until": dt.datetime(1901, 1, 4, 4, 4, 4, 404, tzinfo=dt.UTC),
    "checkin_since": dt.datetime(1901, 1, 5, 5, 5, 5, 505, tzinfo=dt.UTC),
    "today": dt.date(1901, 1, 2),
    "user_pk": -730_999_102,
    "now": dt.datetime(1901, 1, 3, 3, 3, 3, 303, tzinfo=dt.UTC),
}


def _decision_queryset(by: str, s: dict):
    facility = Facility(pk=s["facility_pk"], code=s["facility_code"])
    window = CareWindow(since=s["since"], until=s["until"], checkin_since=s["checkin_since"], today=s["today"])
    return (
        HealthBook.objects.select_related(*BOOK_RELATED)
        .filter(**{by: s["lookup"]})
        .annotate(
            care=care_relationship_expr(facility, window=window),
            closed=_closed(s["facility_pk"]),
            shared=_shared(s["facility_pk"], s["now"]),
            checked_in_at=_checked_in_at(facility, window),
            emergency_until=_emergency_until(s["user_pk"], s["now"]),
            residence_commune_name=_residence_commune_name(),
        )
        .order_by("pk")[:1]
    )


_DECISIONS = {
    "public_id": CompiledQuery(
        lambda s: _decision_queryset("public_id", s),
        {**_S, "lookup": uuid.UUID("5e5e5e5e-0000-4000-8000-5e5e5e5e5e5e")},
    ),
    "personal_id": CompiledQuery(
        lambda s: _decision_queryset("citizen__personal_id", s), {**_S, "lookup": "\x1fsskdt:personal-id\x1f"}
    ),
}


def _decide(user, public_id) -> HealthBook | None:
    """The book with `care`, `closed`, `shared` and `emergency_until` for a reader, or None
    (one query)."""
    value = str(public_id)
    if len(value) == 12 and value.isdigit():
        by, lookup = "personal_id", value
    elif len(value) == 36:
        by = "public_id"
        try:
            lookup = uuid.UUID(value)
        except ValueError:
            return None
    else:
        return None
    now = timezone.now()
    facility = user.facility
    window = CareWindow.at(now)
    rows = _DECISIONS[by].run(
        {
            "lookup": lookup,
            "facility_pk": facility.pk,
            "facility_code": facility.code,
            "since": window.since,
            "until": window.until,
            "checkin_since": window.checkin_since,
            "today": window.today,
            "user_pk": user.pk,
            "now": now,
        }
    )
    return rows[0] if rows else None


def _care_details(book, purpose: str) -> dict | None:
    """What the citizen's access log says of an allowed open: under a share code the citizen
    gave; in an emergency while the citizen had closed the book; under a current check-in (the
    facility, the reader's own, checked the citizen in at that time)."""
    if getattr(book, "shared", False) and purpose == Purpose.TREAT:
        return {"share_code": True}
    if getattr(book, "closed", False) and purpose == Purpose.ETREAT:
        return {"closed_by_citizen": True}
    at = getattr(book, "checked_in_at", None)
    if purpose != Purpose.TREAT or at is None:
        return None
    return {"check_in": timezone.localtime(at).isoformat()}


def book_get_for_user(
    user,
    public_id,
    *,
    viewed: str,
    request=None,
    event: str = "view",
    actor: Actor | None = None,
) -> BookAccess:
    """Return the access to one book or raise, writing exactly one access-log entry.

    `user` is the person whose rights apply (for facility software: the named practitioner);
    `actor` describes who is reading for the log (defaults to that person). Raises Http404 for
    anyone who may not read books and for unknown books, BookAccessDenied for a doctor without
    a relationship or whose relationship the citizen closed (`reason` says which). One query
    decides (book, citizen, card, relationship, the citizen's consent and emergency grant).
    """
    tune_connection_for_pages()
    actor = actor or Actor.for_user(user)
    reader = can_read_books(user)
    book = _decide(user, public_id) if reader else book_lookup(public_id).first()

    def log(outcome, purpose="", reason="", details=None):
        access_log_record(
            actor=actor,
            event=event,
            viewed=viewed,
            outcome=outcome,
            purpose=purpose,
            citizen=book.citizen if book else None,
            book=book,
            request=request,
            details={"refused": reason} if reason else details,
        )

    if book is None:
        log(Outcome.DENIED, reason="not_found")
        raise Http404
    if not reader:
        log(Outcome.DENIED, reason="role")
        raise Http404
    if book.shared or (book.care and not book.closed):
        purpose = Purpose.TREAT
    elif book.emergency_until:
        purpose = Purpose.ETREAT  # break the glass: also when closed, and then flagged
    else:
        reason = CLOSED_BY_CITIZEN if book.closed and book.care else NO_CARE_RELATIONSHIP
        log(Outcome.DENIED, reason=reason)
        raise BookAccessDenied(book, reason)
    log(Outcome.SUCCESS, purpose, details=_care_details(book, purpose))
    return BookAccess(book=book, citizen=book.citizen, purpose=purpose, emergency_until=book.emergency_until)


# ---------------------------------------------------------------- facility software
#
# Facility software reads for a doctor only with the short-lived token that doctor granted it
# after signing in to the portal (`Authorization: Bearer …`, facilities.software_grants): the
# token names the practitioner, the key behind it the facility. An API key alone — with or
# without a practitioner named in a header — reads no book. The software states the purpose
# (`X-Purpose-Of-Use`: TREAT or ETREAT; ETREAT also needs `X-Emergency-Reason`, one of the
# emergency reason codes). The same rule as the pages then applies to that doctor, and the same
# log records the read, as software acting for them (with the token's id).

PURPOSE_HEADER = "X-Purpose-Of-Use"
REASON_HEADER = "X-Emergency-Reason"


def _machine_actor(request, practitioner: User | None) -> Actor:
    principal = request.user
    token = getattr(principal, "token", None)
    return Actor(
        kind=ActorKind.MACHINE,
        user=practitioner,
        username=practitioner.username if practitioner else "",
        name=practitioner.full_name if practitioner else "",
        role=practitioner.role if practitioner else "",
        facility=principal.facility,
        client_ref=principal.api_key.prefix,
        extra={"token": str(token.public_id)} if token is not None else {},
    )


def _software_reader(request, id_value: str, *, viewed: str, event: str = "api_read"):
    """The practitioner the software reads for (from its token) and a `refuse` that logs one
    refused entry and raises the API error."""
    practitioner = getattr(request.user, "practitioner", None)
    actor = _machine_actor(request, practitioner)
    purpose = (request.headers.get(PURPOSE_HEADER) or "").strip().upper()

    def refuse(code: str, message: str, status: int, book=None):
        access_log_record(
            actor=actor,
            event=event,
            viewed=viewed,
            outcome=Outcome.DENIED,
            purpose=purpose[:8],
            citizen=book.citizen if book else None,
            book=book,
            request=request,
            details={"refused": code},
        )
        raise ApiError(code, message, status_code=status)

    if practitioner is None or not can_read_books(practitioner):
        refuse(
            "practitioner_token_required",
            _(
                "Read for a doctor with the token the doctor granted to this software after signing in "
                "(Authorization: Bearer …, see /oauth/authorize/); an API key alone reads no book."
            ),
            403,
            book=_book_by_public_id(id_value),
        )
    return practitioner, actor, purpose, refuse


def _book_by_public_id(value: str):
    try:
        return book_lookup(str(uuid.UUID(str(value)))).first() if value else None
    except (ValueError, TypeError, AttributeError):
        return None


def _no_relationship_message() -> str:
    return _("No care relationship with this citizen: use X-Purpose-Of-Use ETREAT with X-Emergency-Reason.")


def _closed_message() -> str:
    return _(
        "The citizen has closed the book: only an emergency opens it (X-Purpose-Of-Use ETREAT with "
        "X-Emergency-Reason), or a share code the citizen gives your facility."
    )


def refusal_message(reason: str) -> str:
    """The doctor's words for a refusal reason (pages and APIs)."""
    return _closed_message() if reason == CLOSED_BY_CITIZEN else _no_relationship_message()


def facility_book_access(request, id_value: str, *, viewed: str) -> BookAccess:
    """Decide a facility software read of the book `id_value` (its public id; personal IDs never
    travel in URLs) and write its one log entry (or refuse with a code)."""
    practitioner, actor, purpose, refuse = _software_reader(request, id_value, viewed=viewed)
    book = _book_by_public_id(id_value)
    if purpose not in Purpose.values:
        refuse("purpose_missing", _("Send X-Purpose-Of-Use: TREAT or ETREAT."), 400, book=book)
    reason = (request.headers.get(REASON_HEADER) or "").strip() if purpose == Purpose.ETREAT else ""
    if book is None:
        # An id that names no book is answered as a book the doctor may not read (same status,
        # same body): the API is no oracle of which ids exist. Only breaking the glass with a
        # reason (itself recorded, capped and alerted for a real book) learns that it names none.
        if reason:
            refuse("not_found", _("No such citizen."), 404)
        refuse("no_care_relationship", _no_relationship_message(), 403)
    if purpose == Purpose.ETREAT:
        if reason:
            try:
                emergency_access_start(
                    user=practitioner,
                    citizen=book.citizen,
                    reason=reason,
                    via_api=True,
                    request=request,
                    actor=actor,
                    book=book,
                )
            except ValidationError as exc:
                if getattr(exc, "code", None) == EMERGENCY_CAP_CODE:
                    refuse("emergency_cap_reached", " ".join(exc.messages), 429, book=book)
                refuse(
                    "emergency_reason_invalid",
                    _("X-Emergency-Reason must be one of the reason codes."),
                    400,
                    book=book,
                )
    try:
        access = book_get_for_user(
            practitioner, book.public_id, viewed=viewed, request=request, event="api_read", actor=actor
        )
    except BookAccessDenied as denied:
        raise ApiError(denied.reason, refusal_message(denied.reason), status_code=403) from None
    return access


def facility_book_lookup(request, personal_id: str) -> HealthBook:
    """Find a citizen's book by personal ID (sent in the request body) for the doctor the
    software reads for, like the doctor's own search: one `search` entry, found or not."""
    _practitioner, actor, _purpose, refuse = _software_reader(request, "", viewed="search", event="search")
    value = (personal_id or "").strip()
    book = book_lookup(value).first() if len(value) == 12 and value.isdigit() else None
    if book is None:
        refuse("not_found", _("No citizen with this personal ID."), 404)
    access_log_record(
        actor=actor,
        event="search",
        viewed="search",
        outcome=Outcome.SUCCESS,
        citizen=book.citizen,
        book=book,
        request=request,
        details={"results": 1, "by": "identifier"},
    )
    return book


# ---------------------------------------------------------------- the book-view registry
#
# Every URL under BOOK_URL_PREFIXES must resolve to a view that declares itself here; the
# generated test (tests/healthbook/book/test_every_book_url.py) walks the resolver and calls
# each one, checking the access rule and the single log entry.

BOOK_URL_PREFIXES = ("doctor/", "api/v1/citizens/", "fhir/Patient")
BOOK_VIEWS: dict[str, str] = {}  # "module.qualname" → kind ("book", "search", "lookup", "emergency", "citizen_log")


def book_view_register(kind: str):
    """Mark a view (function or DRF class) as one that checks access and logs (`kind`)."""

    def mark(view):
        view.book_access = kind
        BOOK_VIEWS[f"{view.__module__}.{view.__qualname__}"] = kind
        return view

    return mark
