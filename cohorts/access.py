"""Who may see which cohort figures, on provinces.access: counts are for ministry staff (every
province) and provincial officers (their own province: another is a 404). Cohort rules are
written by ministry staff."""

from core.roles import MINISTRY_ROLES, NATIONAL_ROLES
from provinces.access import PROVINCE_ROLES, province_get_for_dashboard

COUNT_ROLES = PROVINCE_ROLES
EDIT_ROLES = tuple(sorted(MINISTRY_ROLES))

__all__ = ["COUNT_ROLES", "EDIT_ROLES", "NATIONAL_ROLES", "province_get_for_dashboard"]
