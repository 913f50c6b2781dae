from django.db.models import Q, QuerySet

from accounts.access import staff_visible_to
from accounts.models import User


def staff_list(*, user, q: str = "", active: str = "") -> QuerySet[User]:
    """Return the staff the user manages, filtered by text and status, newest first."""
    qs = staff_visible_to(user).select_related("province", "facility").order_by("-date_joined")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q) | Q(email__icontains=q))
    if active in ("0", "1"):
        qs = qs.filter(is_active=active == "1")
    return qs
