"""Reads of the access log: the "who viewed this book" panel, the citizen's own list in
plain words, the province's emergency review queue and the openings it is alerted to."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accesslog.access import emergency_grants_visible_to
from accesslog.models import AccessLogEntry, ActorKind, EmergencyAccess, Outcome, PublicHealthPurpose
from core.compiled import CompiledQuery

CITIZEN_APP_ACTOR = "citizen-app:"


_VIEWED_LABELS = {
    "book": gettext_lazy("the health book"),
    "timeline": gettext_lazy("the history"),
    "labs": gettext_lazy("lab results"),
    "lab": gettext_lazy("lab results"),
    "visit": gettext_lazy("a visit"),
    "vaccinations": gettext_lazy("vaccinations"),
    "pregnancies": gettext_lazy("pregnancy check-ups"),
    "prescriptions": gettext_lazy("prescriptions"),
    "follow-ups": gettext_lazy("follow-up appointments"),
    "certificates": gettext_lazy("certificates"),
    "access-log": gettext_lazy("who viewed the book"),
    "history": gettext_lazy("the whole history"),
    "fhir-everything": gettext_lazy("the whole history"),
    "search": gettext_lazy("a search"),
    "copy": gettext_lazy("a copy of the book"),
}


def viewed_label(viewed: str) -> str:
    """Plain Vietnamese for what was viewed ("visit:123" → "một lần khám"); one translation
    lookup per call (the panel calls it for every row)."""
    if (viewed or "").startswith("cohort:"):
        _kind, purpose, cohort = (viewed.split(":", 2) + ["", ""])[:3]
        return public_health_words(cohort, purpose)
    label = _VIEWED_LABELS.get((viewed or "").split(":", 1)[0])
    return str(label) if label is not None else viewed


def cohort_viewed(cohort: str, purpose: str) -> str:
    """The `viewed` of a line-list entry: "cohort:<purpose>:<cohort name>" (the panels word it
    without reading the entry's details)."""
    return f"cohort:{purpose}:{cohort}"[:200]


def public_health_words(cohort: str, purpose: str, purpose_text: str = "") -> str:
    """ "Danh sách y tế công cộng: <cohort>, mục đích <purpose>" """
    words = str(PublicHealthPurpose(purpose).label) if purpose in PublicHealthPurpose.values else ""
    if purpose_text:
        words = f"{words} ({purpose_text})" if words else purpose_text
    return _("Public-health list: %(cohort)s, purpose: %(purpose)s") % {"cohort": cohort, "purpose": words}


# What the "who viewed" panels show (partials/viewers.html); the rest of a row is not read.
VIEWER_FIELDS = (
    "seq",
    "recorded_at",
    "actor_kind",
    "actor_username",
    "actor_name",
    "facility_name",
    "event",
    "viewed",
    "purpose",
    "outcome",
)
_VIEWERS: dict[int, CompiledQuery] = {}


def _viewers_query(limit: int) -> CompiledQuery:
    """The panel's query for `limit` rows, compiled once per thread (core.compiled): every
    book page asks it."""
    query = _VIEWERS.get(limit)
    if query is None:
        query = _VIEWERS[limit] = CompiledQuery(
            lambda s: (
                AccessLogEntry.objects.filter(citizen_id=s["citizen_id"])
                .only(*VIEWER_FIELDS)
                .order_by("-recorded_at", "-seq")[:limit]
            ),
            {"citizen_id": -730_999_301},
        )
    return query


def book_viewers(citizen_id: int, *, limit: int = 10) -> list[AccessLogEntry]:
    """The newest entries about this citizen, people and software, allowed or refused."""
    return _viewers_query(limit).run({"citizen_id": citizen_id})


# A province public-health officer's line list of a cohort (issue 20): opened or exported.
PUBLIC_HEALTH_EVENTS = ("cohort_list", "cohort_export")


def public_health_sentence(entry: AccessLogEntry, when: str = "") -> str:
    """The citizen's words for a line-list entry (details written by publichealth.services:
    cohort name, purpose, its text, province): "Danh sách y tế công cộng: <cohort>, mục đích: …
    — <officer>, <province>, <when>"."""
    details = entry.details or {}
    when = when or timezone.localtime(entry.recorded_at).strftime("%d/%m/%Y %H:%M")
    words = public_health_words(
        details.get("cohort") or "", details.get("purpose") or "", details.get("purpose_text") or ""
    )
    text = _("%(list)s — %(who)s, %(province)s, on %(when)s") % {
        "list": words,
        "who": entry.actor_name or entry.actor_username,
        "province": details.get("province") or "",
        "when": when,
    }
    if entry.event == "cohort_export":
        text += " " + _("(exported to a file)")
    return text


def _sentence(entry: AccessLogEntry) -> str:
    when = timezone.localtime(entry.recorded_at).strftime("%d/%m/%Y %H:%M")
    what = viewed_label(entry.viewed)
    who = entry.actor_name  # the reader's name, never their login name (see citizen_access_log)
    details = entry.details or {}
    if entry.event in PUBLIC_HEALTH_EVENTS:
        return public_health_sentence(entry, when)
    if entry.event == "emergency_start":
        text = _("%(who)s at %(facility)s opened your book in an emergency on %(when)s")
    elif entry.event == "share_code" and entry.outcome == Outcome.SUCCESS:
        text = _("%(who)s at %(facility)s entered your share code on %(when)s: the book is open to %(facility)s")
    elif entry.event == "share_code":
        text = _("%(who)s at %(facility)s entered a wrong share code for your book on %(when)s")
    elif entry.outcome != Outcome.SUCCESS and details.get("refused") == "closed_by_citizen":
        text = _("%(who)s at %(facility)s tried to view %(what)s on %(when)s and was refused: you closed the book")
    elif entry.event == "search":
        text = _("%(who)s at %(facility)s looked you up on %(when)s")
    elif entry.outcome != Outcome.SUCCESS:
        text = _("%(who)s at %(facility)s tried to view %(what)s on %(when)s and was refused")
    elif entry.actor_kind == ActorKind.MACHINE:
        text = _("The software of %(facility)s read %(what)s for %(who)s on %(when)s")
    else:
        text = _("%(who)s at %(facility)s viewed %(what)s on %(when)s")
    text = text % {
        "who": who or _("someone"),
        "facility": entry.facility_name or _("the portal"),
        "what": what,
        "when": when,
    }
    if entry.outcome == Outcome.SUCCESS and details.get("share_code") and entry.event != "share_code":
        text += " " + _("(with your share code)")
    if entry.outcome == Outcome.SUCCESS and details.get("closed_by_citizen"):
        text += " " + _("(emergency access while your book was closed)")
    check_in = _check_in(entry)
    if check_in is not None:  # the book was open because this facility checked the citizen in
        text += " " + _("(%(facility)s checked you in on %(when)s)") % {
            "facility": check_in["facility"] or _("the facility"),
            "when": check_in["text"],
        }
    return text


def _check_in(entry: AccessLogEntry) -> dict | None:
    """The check-in an allowed read rested on (details written by healthbook.book.access), in
    the words of the citizen's list: the reader's facility and the local time."""
    at = (entry.details or {}).get("check_in") if entry.outcome == Outcome.SUCCESS else None
    if not at:
        return None
    try:
        local = timezone.localtime(dt.datetime.fromisoformat(at))
    except (TypeError, ValueError):
        return None
    return {
        "facility": entry.facility_name,
        "facility_code": entry.facility_code,
        "at": local.isoformat(),
        "text": local.strftime("%d/%m/%Y %H:%M"),
    }


def citizen_access_log(citizen_id: int, *, limit: int = 200) -> dict:
    """The citizen's own list in plain words, people and software apart (one query). The
    citizen app's own reads and the citizen's own reads through the citizen API are logged but not
    listed (it is the citizen looking).

    What the citizen sees of a reader (docs/citizen-api.md, "What the citizen sees of who read"):
    the full name, role and facility, unmasked -- as Estonia's patient portal shows by name who
    viewed, and as the emergency notice already names the doctor -- and for software, the
    facility and the doctor it read for. Never the login name, user id, address, token or key:
    a reader with no recorded name is "someone" at their facility."""
    entries = (
        AccessLogEntry.objects.filter(citizen_id=citizen_id)
        .exclude(actor_username__startswith=CITIZEN_APP_ACTOR)
        .exclude(actor_kind=ActorKind.CITIZEN)
        .order_by("-recorded_at", "-seq")[:limit]
    )
    people, machines = [], []
    for entry in entries:
        item = {
            "at": entry.recorded_at.isoformat(),
            "text": _sentence(entry),
            "who": entry.actor_name,
            "role": entry.actor_role,
            "facility": entry.facility_name,
            "facility_code": entry.facility_code,
            "viewed": viewed_label(entry.viewed),
            "purpose": entry.purpose,
            "emergency": entry.purpose == "ETREAT",
            "allowed": entry.outcome == Outcome.SUCCESS,
            "check_in": _check_in(entry),
            "event": entry.event,
            "refused": (entry.details or {}).get("refused", "") if entry.outcome != Outcome.SUCCESS else "",
            "share_code": bool((entry.details or {}).get("share_code")),
        }
        (people if entry.actor_kind == ActorKind.PERSON else machines).append(item)
    return {"people": people, "machines": machines}


def emergency_queue(user, *, pending_only: bool = True) -> QuerySet[EmergencyAccess]:
    """The reviewer's queue: the grants of their facility, newest first (pending only by default)."""
    qs = emergency_grants_visible_to(user).select_related("user", "citizen", "reviewed_by")
    if pending_only:
        qs = qs.filter(review_status=EmergencyAccess.Review.PENDING)
    return qs.order_by("-started_at")


def emergency_openings_between(*, start, end) -> dict[int, list[EmergencyAccess]]:
    """Every emergency opening started in [start, end), by the province of its facility (the
    province's daily digest lists them all, reviewed or not)."""
    by_province: dict[int, list[EmergencyAccess]] = {}
    rows = (
        EmergencyAccess.objects.filter(started_at__gte=start, started_at__lt=end)
        .select_related("user", "facility")
        .order_by("facility__code", "started_at")
    )
    for grant in rows:
        by_province.setdefault(grant.facility.province_id, []).append(grant)
    return by_province


def emergency_pending_count(province_id: int) -> int:
    """Emergency openings of the province's facilities still waiting for the province's verdict."""
    return EmergencyAccess.objects.filter(
        facility__province_id=province_id, review_status=EmergencyAccess.Review.PENDING
    ).count()
