"""Who may see which dashboard, built on accounts.access.

The national dashboard is for ministry staff. A province dashboard is for ministry staff
(any province) and provincial officers (their own: another province is a 404, so its
existence is not confirmed). Doctors, facility administrators and accounts without a role
get 403 on every dashboard.
"""

from django.http import Http404

from core.roles import MINISTRY_ROLES, Role
from geo.access import provinces_visible_to
from geo.models import Province

NATIONAL_ROLES = tuple(sorted(MINISTRY_ROLES))
PROVINCE_ROLES = (*NATIONAL_ROLES, Role.PROVINCE_OFFICER)


def province_get_for_dashboard(user, code: str) -> Province:
    """Return the province whose dashboard the user may see, or raise Http404."""
    try:
        return provinces_visible_to(user).get(code=code)
    except Province.DoesNotExist:
        raise Http404 from None
