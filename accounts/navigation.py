"""The navigation each role sees. Later capabilities add their entries here."""

import functools
from dataclasses import dataclass

from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.access import can_manage_staff
from core.roles import Role, is_staff_member


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]


NAV_ITEMS: list[NavItem] = [
    NavItem(_("Home"), "home", frozenset(Role.values)),
    NavItem(_("Staff"), "staff-list", frozenset({Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN})),
    NavItem(_("Accounts to approve"), "staff-approvals", frozenset({Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER})),
    NavItem(_("API"), "api-docs", frozenset(Role.values)),
    NavItem(_("Card imports"), "card-batch-list", frozenset({Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER})),
]

# The data-protection report of citizens' copy requests (issue 19): ministry administrators.
NAV_ITEMS.append(NavItem(_("Data protection"), "data-protection", frozenset({Role.MINISTRY_ADMIN})))

# Code lists: ministry editors and administrators.
NAV_ITEMS.append(
    NavItem(_("Code lists"), "codelists:system-list", frozenset({Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN}))
)
# Retired codes still sent (issue 17): the province sends the notices to its facilities.
NAV_ITEMS.append(
    NavItem(
        _("Retired codes"),
        "codelists:impact-index",
        frozenset({Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER}),
    )
)

# Messages to citizens not delivered (healthbook.notifications): the province and the ministry.
NAV_ITEMS.append(
    NavItem(
        _("Messages not delivered"),
        "notification-failed-list",
        frozenset({Role.PROVINCE_OFFICER, Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR}),
    )
)


@functools.lru_cache(maxsize=256)
def _reverse(script_prefix: str, url_name: str) -> str:
    """The URL of a named view without arguments (the same for every request of a process)."""
    return reverse(url_name)


# Menus that group entries so that the bar fits one line at 1366 px for every role (issue 18).
# An entry not named here stays on the bar; a menu with one entry for a role is shown as that entry.
ACCOUNTS_MENU = pgettext_lazy("menu", "Accounts")
FACILITIES_MENU = pgettext_lazy("menu", "Facilities")
DATA_MENU = pgettext_lazy("menu", "Data")
NAV_GROUPS = {
    "staff-list": ACCOUNTS_MENU,
    "staff-approvals": ACCOUNTS_MENU,
    "facility-list": FACILITIES_MENU,
    "facility-queue": FACILITIES_MENU,
    "card-batch-list": DATA_MENU,
    "submission-list": DATA_MENU,
    "codelists:system-list": DATA_MENU,
    "codelists:impact-index": DATA_MENU,
    "api-docs": DATA_MENU,
    "notification-failed-list": DATA_MENU,
    "data-protection": DATA_MENU,
    "cohorts-mine": DATA_MENU,
}


def nav_for(user) -> list[dict]:
    """The bar's entries: {"label", "url", "name"} or a menu {"label", "children", "names"}."""
    if not is_staff_member(user):
        return []
    items, menus = [], {}
    for item in NAV_ITEMS:
        if user.role not in item.roles:
            continue
        if item.url_name == "staff-list" and not can_manage_staff(user):
            continue
        try:
            url = _reverse(get_script_prefix(), item.url_name)
        except NoReverseMatch:
            continue
        entry = {"label": item.label, "url": url, "name": item.url_name}
        group = NAV_GROUPS.get(item.url_name)
        if group is None:
            items.append(entry)
        elif group in menus:
            menus[group]["children"].append(entry)
        else:
            menus[group] = {"label": group, "children": [entry]}
            items.append(menus[group])
    out = []
    for entry in items:
        children = entry.get("children")
        if children is not None and len(children) == 1:
            entry = children[0]
        elif children is not None:
            entry["names"] = [child["name"] for child in children]
        out.append(entry)
    return out


NAV_ITEMS += [
    NavItem(_("Facilities"), "facility-list", frozenset(Role.values) - {Role.DOCTOR}),
    NavItem(_("Approval queue"), "facility-queue", frozenset({Role.PROVINCE_OFFICER})),
    NavItem(_("API credentials"), "facility-my-credentials", frozenset({Role.FACILITY_ADMIN})),
]

# Doctor book pages and the emergency-access review queue (accesslog).
NAV_ITEMS += [
    NavItem(_("Find a citizen"), "citizen-search", frozenset({Role.DOCTOR})),
    NavItem(_("Software reading for me"), "oauth-my-software", frozenset({Role.DOCTOR})),
    NavItem(_("Emergency reviews"), "emergency-review-list", frozenset({Role.PROVINCE_OFFICER})),
]

# Examination data intake: submissions from facility software (status and problems).
NAV_ITEMS.append(
    NavItem(
        _("Submissions"),
        "submission-list",
        frozenset({Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN}),
    )
)

# Rollout dashboards: provincial officers (their province) and ministry staff (national).
NAV_ITEMS.append(
    NavItem(
        _("Dashboards"), "dashboard-mine", frozenset({Role.PROVINCE_OFFICER, Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN})
    )
)

# Cohorts for public-health work (issue 20): counts per commune and facility for the officer's
# province, every province for ministry staff.
NAV_ITEMS.append(
    NavItem(_("Cohorts"), "cohorts-mine", frozenset({Role.PROVINCE_OFFICER, Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN}))
)

# Public-health line lists of cohorts (issue 20): the province public-health officer only.
NAV_ITEMS.append(NavItem(_("Public-health lists"), "ph-cohort-index", frozenset({Role.PUBLIC_HEALTH_OFFICER})))
