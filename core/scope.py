"""The one province-scope rule: which rows of a province-bound table a member of staff may see.

- ministry staff: the whole country;
- a provincial officer or a province public-health officer: the rows of their province;
- a doctor or facility administrator: the rows of their facility where the table names a
  facility, else the rows of their facility's province;
- anyone else (no role, inactive, anonymous, facility software): nothing.

Every `access.py` states *who* may see a kind of row at all (the roles); *which* rows they see
is this rule, applied with `scope_filter` to a queryset or with `in_scope` to one row. Neither
imports an app: the caller names the fields that lead from its rows to a province and to a
facility.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

from core.roles import FACILITY_ROLES, PROVINCE_BOUND_ROLES, is_national, is_staff_member

NATIONAL, PROVINCE, FACILITY, NOTHING = "national", "province", "facility", "nothing"


@dataclass(frozen=True)
class Scope:
    kind: str  # NATIONAL | PROVINCE | FACILITY | NOTHING
    province_id: int | None = None
    facility_id: int | None = None


def scope_of(user) -> Scope:
    """The part of the country a member of staff works in."""
    if is_national(user):
        return Scope(NATIONAL)
    if not is_staff_member(user) or not user.province_id:
        return Scope(NOTHING)
    if user.role in PROVINCE_BOUND_ROLES:
        return Scope(PROVINCE, user.province_id)
    if user.role in FACILITY_ROLES and user.facility_id:
        return Scope(FACILITY, user.province_id, user.facility_id)
    return Scope(NOTHING)


def scope_filter(qs: QuerySet, user, *, province: str, facility: str | None = None) -> QuerySet:
    """`qs` narrowed to the user's scope. `province` and `facility` are the lookups from the
    queryset's rows to a province and a facility ("pk" when the rows are provinces or
    facilities); without `facility`, facility staff see their facility's province."""
    scope = scope_of(user)
    if scope.kind == NATIONAL:
        return qs
    if scope.kind == FACILITY and facility is not None:
        return qs.filter(**{_id(facility): scope.facility_id})
    if scope.kind in (PROVINCE, FACILITY):
        return qs.filter(**{_id(province): scope.province_id})
    return qs.none()


def in_scope(user, *, province_id: int | None, facility_id: int | None = None, by_facility: bool = False) -> bool:
    """Whether one row (in that province, at that facility) is in the user's scope; the same rule
    as `scope_filter` with a facility lookup when `by_facility`."""
    scope = scope_of(user)
    if scope.kind == NATIONAL:
        return True
    if scope.kind == FACILITY and by_facility:
        return facility_id is not None and facility_id == scope.facility_id
    if scope.kind in (PROVINCE, FACILITY):
        return province_id is not None and province_id == scope.province_id
    return False


def _id(lookup: str) -> str:
    return lookup if lookup == "pk" or lookup.endswith(("_id", "__pk")) else f"{lookup}_id"
