"""Who may reach each URL: the table the generated access checks (S6, S7, S11, S12, S16) run on.

Every URL pattern the resolver knows must match a rule here, by URL name (``namespace:name``),
by route for unnamed patterns, or by one of the PREFIX_RULES. A pattern with no rule makes
``tests/security/test_url_access.py::test_every_url_is_classified`` fail: add a line below.

Kinds of rule:

- ``Public``: anyone, signed in or not (login, password reset, the schema …). Say why.
- ``SignedIn``: any signed-in account, whatever its role (own password, own MFA, own sessions).
  Anonymous callers are sent to the login page (HTML) or get 401/403 (API).
- ``Roles(...)``: only these roles; every other role gets 403/404, anonymous is sent to login.
- ``Roles(..., obj="name")``: as above, and the URL names an object. The checks fill its path
  parameters with an object OUTSIDE the caller's scope (PARAMS[name] gives it per actor; None
  when the actor's scope is national) and expect 403/404 with no canary in the body.
- ``Admin``: the Django admin: staff (is_staff) accounts only, behind the portal's login + MFA.

Path parameters of patterns without ``obj`` are filled with values that match nothing
(random UUID, large integer, "zz-none").
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Role

ALL_ROLES = tuple(Role.values)
STAFF_MANAGERS = (Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN)


@dataclass(frozen=True)
class Public:
    why: str


@dataclass(frozen=True)
class SignedIn:
    why: str


@dataclass(frozen=True)
class Roles:
    roles: tuple
    obj: str | None = None


@dataclass(frozen=True)
class Admin:
    why: str = "Django admin: is_staff only, login through allauth + MFA"


# --- path-parameter providers: actor -> value of an object that actor must not reach ----------

def _foreign_staff(world, actor):
    """A staff account outside the actor's management scope (None: the actor manages everyone)."""
    if actor is not None and actor.role == Role.MINISTRY_ADMIN:
        return None
    if actor is not None and actor.role == Role.PROVINCE_OFFICER:
        return world.objects["facility_admin_b"].public_id  # facility admin of another province
    return world.objects["doctor_a2"].public_id  # doctor of another facility, same province


def _foreign_province(world, actor):
    """A province code outside the actor's dashboard scope (None: the actor sees every province)."""
    if actor is not None and actor.role in (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR):
        return None
    own = actor.province.code if actor is not None and actor.province_id else None
    return "01" if own == "79" else "79"


PARAMS = {
    "staff_member": _foreign_staff,
    "province_code": _foreign_province,
}

MINISTRY = (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR)
DASHBOARD_ROLES = (*MINISTRY, Role.PROVINCE_OFFICER)


RULES = {
    # --- portal ---
    "home": Roles(ALL_ROLES),
    "staff-list": Roles(STAFF_MANAGERS),
    "staff-create": Roles(STAFF_MANAGERS),
    "staff-detail": Roles(STAFF_MANAGERS, obj="staff_member"),
    "staff-deactivate": Roles(STAFF_MANAGERS, obj="staff_member"),
    "staff-reactivate": Roles(STAFF_MANAGERS, obj="staff_member"),
    "language-set": SignedIn("the signed-in user's own language"),
    "set_language": Public("Django's language switch: sets a cookie, reads nothing"),
    # --- API ---
    "api-me": Roles(ALL_ROLES),
    "api-staff": Roles(ALL_ROLES),  # lists only the staff the caller manages (empty for doctors)
    "api-provinces": Roles(ALL_ROLES),
    "api-schema": Public("the OpenAPI description carries no data"),
    "api-docs": Public("Swagger UI page; loads the public schema"),
    # --- allauth: login, password reset, MFA step (public by nature) ---
    "account_login": Public("login form"),
    "account_logout": Public("logout; harmless when signed out"),
    "account_inactive": Public("'account inactive' notice"),
    "account_signup": Public("closed: the adapter refuses sign-up"),
    "account_reset_password": Public("password reset request"),
    "account_reset_password_done": Public("password reset notice"),
    "account_reset_password_from_key": Public("password reset link (key checked by allauth)"),
    "account_reset_password_from_key_done": Public("password reset notice"),
    "account_email_verification_sent": Public("notice page"),
    "account_confirm_email": Public("email confirmation link (key checked by allauth)"),
    "account_confirm_login_code": Public("login-by-code step (disabled; allauth redirects)"),
    "mfa_authenticate": Public("the TOTP step of login: reachable only with a pending password login"),
    # --- allauth: the signed-in user's own account ---
    "account_reauthenticate": SignedIn("re-enter own password"),
    "account_email": SignedIn("own email addresses"),
    "account_change_password": SignedIn("own password"),
    "account_set_password": SignedIn("own password"),
    "mfa_index": SignedIn("own authenticators"),
    "mfa_reauthenticate": SignedIn("own MFA re-check"),
    "mfa_activate_totp": SignedIn("own TOTP enrolment"),
    "mfa_deactivate_totp": SignedIn("own TOTP removal (asks reauthentication)"),
    "mfa_view_recovery_codes": SignedIn("own recovery codes"),
    "mfa_generate_recovery_codes": SignedIn("own recovery codes"),
    "mfa_download_recovery_codes": SignedIn("own recovery codes"),
    "usersessions_list": SignedIn("own sessions"),
    # --- provinces: rollout dashboards ---
    "dashboard-mine": Roles(DASHBOARD_ROLES),
    "dashboard-national": Roles(MINISTRY),
    "dashboard-national-export": Roles(MINISTRY),
    "dashboard-province": Roles(DASHBOARD_ROLES, obj="province_code"),
    "dashboard-province-export": Roles(DASHBOARD_ROLES, obj="province_code"),
}

# (prefix of the URL name or of the route, rule). Only for URL families guarded as a whole.
PREFIX_RULES = [
    ("admin:", Admin()),
    ("django-admin/", Admin()),
]


def rule_for(name: str | None, route: str):
    if name and name in RULES:
        return RULES[name]
    if route in RULES:
        return RULES[route]
    for prefix, rule in PREFIX_RULES:
        if (name and name.startswith(prefix)) or route.startswith(prefix):
            return rule
    return None
