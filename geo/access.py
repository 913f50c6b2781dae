"""Which provinces a member of staff may see: the national roles all 34, everyone else their
own (the one scope rule, core.scope)."""

from django.db.models import QuerySet

from core.scope import scope_filter
from geo.models import Province


def provinces_visible_to(user) -> QuerySet[Province]:
    """Return the provinces whose figures and staff the user may see."""
    return scope_filter(Province.objects.all(), user, province="pk")
