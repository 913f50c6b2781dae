"""The citizen's own read: the book named by the token (never by the URL), one access-log entry
per call, recorded as the citizen's own read (actor kind `citizen`).

A citizen reads their whole book, and a parent or guardian the book of a child under 14 (the
token says so, citizenapi.auth); nobody else's. The views call `citizen_book_open` before they
read anything: it loads the book with the citizen and the card (one query) and writes the entry.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accesslog.models import ActorKind, Outcome
from accesslog.services import Actor, access_log_record
from core.api import ApiError
from healthbook.book.access import BOOK_RELATED, BookAccess
from healthbook.models import HealthBook

CITIZEN_ACTOR = "citizen:"  # actor_username prefix of the citizen's own reads


def citizen_actor(context) -> Actor:
    """The citizen (or the parent or guardian acting for a child) as the log names them: the
    masked personal ID of whoever signed in to the platform, the platform as the client."""
    extra = {"token": context.token_id, "platform": context.client_name}
    if context.acting_for_child:
        extra.update({"guardian": context.subject_pid_masked, "relationship": context.relationship})
    return Actor(
        kind=ActorKind.CITIZEN,
        username=f"{CITIZEN_ACTOR}{context.subject_pid_masked}",
        name="",
        role="guardian" if context.acting_for_child else "self",
        client_ref=context.client_name[:64],
        extra=extra,
    )


def citizen_book_open(request, *, viewed: str) -> BookAccess:
    """The book of the token's citizen, after writing the call's access-log entry (one query to
    load, one append). A citizen without a book gets 404 `no_book` (logged as refused)."""
    context = request.auth
    book = HealthBook.objects.select_related(*BOOK_RELATED).filter(citizen_id=context.citizen_id).order_by("pk").first()
    access_log_record(
        actor=citizen_actor(context),
        event="citizen_read",
        viewed=viewed,
        outcome=Outcome.SUCCESS if book else Outcome.DENIED,
        citizen=book.citizen if book else None,
        book=book,
        request=request,
        details=None if book else {"refused": "no_book"},
    )
    if book is None:
        raise ApiError("no_book", _("This citizen has no health book yet."), status_code=404)
    return BookAccess(book=book, citizen=book.citizen, purpose="", emergency_until=None)
