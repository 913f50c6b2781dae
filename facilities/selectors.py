"""Reads of the registry, always starting from the user's scope."""

import time
import unicodedata

from django.db.models import QuerySet

from facilities.access import facilities_visible_to
from facilities.health import silent_cutoff
from facilities.models import Facility, FacilityStatus, FacilityStatusChange

MAX_QUERY_LENGTH = 100


def search_normalise(text: str) -> str:
    """Fold a search text the way the `search_text` column is folded: lower case, no
    diacritics, đ → d, NFC/NFD alike ("Bệnh viện" and "benh vien" give the same)."""
    text = (text or "")[:MAX_QUERY_LENGTH].replace("\x00", "")
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())


def facility_list(
    *,
    user,
    q: str = "",
    province: str = "",
    status: str = "",
    ownership: str = "",
    level: str = "",
    silent: str = "",
    insurance: str = "",
) -> QuerySet[Facility]:
    """Return the facilities the user may see, filtered; unknown filter values match nothing
    outside the user's scope (the scope is applied first)."""
    qs = facilities_visible_to(user).select_related("province")
    if province:
        qs = qs.filter(province__code=province)
    if status:
        qs = qs.filter(status=status)
    if ownership:
        qs = qs.filter(ownership=ownership)
    if level:
        qs = qs.filter(level=level)
    if insurance in ("0", "1"):
        qs = qs.filter(has_insurance_contract=insurance == "1")
    if silent == "1":
        qs = qs.silent(cutoff=silent_cutoff())
    elif silent == "0":
        qs = qs.not_silent(cutoff=silent_cutoff())
    needle = search_normalise(q)
    if needle:
        qs = qs.filter(search_text__contains=needle)
    return qs.order_by("code")


def approval_queue(*, user) -> QuerySet[Facility]:
    """Pending registrations the user may see, oldest first."""
    return (
        facilities_visible_to(user)
        .filter(status=FacilityStatus.PENDING)
        .select_related("province", "registered_by")
        .order_by("registered_at", "code")
    )


def facility_history(*, facility: Facility) -> QuerySet[FacilityStatusChange]:
    return facility.status_changes.select_related("actor").order_by("-at", "-pk")


_BY_CODE_SECONDS = 300.0
_by_code: dict[str, tuple[float, Facility | None]] = {}


def facility_by_code(code: str) -> Facility | None:
    """The facility with this code (code and name only), remembered in the process for five
    minutes (book pages show the primary-care facility of a card by its code)."""
    now = time.monotonic()
    cached = _by_code.get(code)
    if cached and now - cached[0] < _BY_CODE_SECONDS:
        return cached[1]
    facility = Facility.objects.filter(code=code).only("code", "name").first()
    if len(_by_code) > 50_000:
        _by_code.clear()
    _by_code[code] = (now, facility)
    return facility


def facility_names_forget() -> None:
    """Forget the remembered facilities (tests)."""
    _by_code.clear()
