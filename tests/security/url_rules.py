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
- ``Public(why, obj="name")``: anyone may call it, but the URL names an object some callers must
  not know (a draft code-list version): PARAMS[name] gives it per actor (None when the actor may
  see it) and the answer must be 403/404 with no canary.
- ``Machine(why)``: an endpoint for software, authenticated by an API key (facility or citizen
  app), never by the portal session. Every session, whatever its role, and anonymous callers get
  401/403 (405 for a method it does not have): a signed-in browser must not reach it.

A PARAMS provider returns one value (for the first path parameter) or a dict of values by
parameter name (URLs naming an object with more than one parameter, e.g. key + version).

Path parameters of patterns without ``obj`` are filled with values that match nothing
(random UUID, large integer, "zz-none").
"""

from __future__ import annotations

from dataclasses import dataclass

from core.roles import Role

ALL_ROLES = tuple(Role.values)
STAFF_MANAGERS = (Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN)


@dataclass(frozen=True)
class Public:
    why: str
    obj: str | None = None


@dataclass(frozen=True)
class SignedIn:
    why: str


@dataclass(frozen=True)
class Roles:
    roles: tuple
    obj: str | None = None


@dataclass(frozen=True)
class Machine:
    why: str


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


def _national(actor) -> bool:
    return actor is not None and actor.role in (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR)


def _facility_scoped(actor) -> bool:
    return actor is not None and actor.role in (Role.DOCTOR, Role.FACILITY_ADMIN)


def _foreign_facility(world, actor):
    """Province 79 for a Hà Nội officer (and callers without a role); facility A3 (same province,
    another facility) for a facility's staff; None for ministry staff."""
    if _national(actor):
        return None
    if _facility_scoped(actor):
        return world.objects["facility_a3"].code
    return world.objects["facility_c"].code


def _foreign_facility_decision(world, actor):
    code = _foreign_facility(world, actor)
    return None if code is None else {"code": code, "action": "approve"}


def _foreign_card_batch(world, actor):
    """A batch of province 79 (a ministry administrator sees every batch)."""
    if actor is not None and actor.role == Role.MINISTRY_ADMIN:
        return None
    return world.objects["card_batch_79"].public_id


def _foreign_submission(world, actor):
    if _national(actor):
        return None
    if actor is not None and actor.role == Role.FACILITY_ADMIN:
        return world.objects["submission_a3"].public_id
    return world.objects["submission_79"].public_id


def _foreign_book(world, actor):
    """A book with clinical data at facility B: no doctor of facility A has a care relationship.
    Books are for doctors only, so every other role must be refused it as well."""
    return world.objects["book_b"].public_id


def _draft_version(world, actor):
    """A draft code-list version: it exists only for ministry staff."""
    if _national(actor):
        return None
    draft = world.objects["codelist_draft"]
    return {"key": draft.system.key, "version_id": draft.pk}


def _foreign_province(world, actor):
    """Dashboard of province 79 (only ministry staff see every province)."""
    return None if _national(actor) else "79"


def _foreign_province_export(world, actor):
    return None if _national(actor) else {"code": "79", "table": "facilities", "fmt": "csv"}


def _foreign_province_communes_export(world, actor):
    return None if _national(actor) else {"code": "79", "table": "communes", "fmt": "csv"}


def _foreign_cohort_export(world, actor):
    return None if _national(actor) else {"code": "79", "table": "cohorts", "fmt": "csv"}


def _foreign_cohort(world, actor):
    """A shipped cohort (cohorts migration 0002) of province 79."""
    return None if _national(actor) else {"code": "79", "key": "chronic-not-seen-12-months"}


def _foreign_cohort_detail_export(world, actor):
    if _national(actor):
        return None
    return {"code": "79", "key": "chronic-not-seen-12-months", "table": "communes", "fmt": "csv"}


def _foreign_emergency_grant(world, actor):
    """An emergency access granted at facility B (province 79): only an officer of province 79
    reviews it (never anyone of the facility itself)."""
    return world.objects["emergency_grant_79"].public_id


def _foreign_pending_account(world, actor):
    """An account waiting for approval that the actor may not approve: for a ministry
    administrator the one it created itself, for everyone else a doctor of province 79."""
    if actor is not None and actor.role == Role.MINISTRY_ADMIN:
        return world.objects["pending_admin_own"].public_id
    return world.objects["pending_doctor_79"].public_id


def _foreign_practitioner_token(world, actor):
    """A token another doctor (of facility B) granted to its facility's software."""
    return world.objects["token_doctor_b"].public_id


def _foreign_dead_letter(world, actor):
    """A message to a citizen of province 79 that was not delivered (ministry staff see all)."""
    return None if _national(actor) else world.objects["dead_letter_79"].public_id


def _foreign_line_list(world, actor):
    """A public-health line list opened by an officer of province 79: nobody else ever sees it."""
    return world.objects["line_list_79"].public_id


PARAMS = {
    "line_list": _foreign_line_list,
    "staff_member": _foreign_staff,
    "facility": _foreign_facility,
    "facility_decision": _foreign_facility_decision,
    "card_batch": _foreign_card_batch,
    "submission": _foreign_submission,
    "book": _foreign_book,
    "draft_version": _draft_version,
    "province": _foreign_province,
    "province_export": _foreign_province_export,
    "province_communes_export": _foreign_province_communes_export,
    "cohort_province_export": _foreign_cohort_export,
    "cohort": _foreign_cohort,
    "cohort_detail_export": _foreign_cohort_detail_export,
    "emergency_grant": _foreign_emergency_grant,
    "pending_account": _foreign_pending_account,
    "practitioner_token": _foreign_practitioner_token,
    "dead_letter": _foreign_dead_letter,
}

MINISTRY = (Role.MINISTRY_EDITOR, Role.MINISTRY_ADMIN)
CARD_IMPORT = (Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER)
SUBMISSION_READERS = (Role.MINISTRY_ADMIN, Role.MINISTRY_EDITOR, Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN)
PROVINCE_DASHBOARD = (*MINISTRY, Role.PROVINCE_OFFICER)
DOCTOR = (Role.DOCTOR,)
PUBLIC_HEALTH = (Role.PUBLIC_HEALTH_OFFICER,)


RULES = {
    # --- portal ---
    "home": Roles(ALL_ROLES),
    "staff-list": Roles(STAFF_MANAGERS),
    "staff-create": Roles(STAFF_MANAGERS),
    # Second-party approval: the province confirms doctors, another ministry admin approves one.
    "staff-approvals": Roles((Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER)),
    "staff-approve": Roles((Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER), obj="pending_account"),
    "staff-detail": Roles(STAFF_MANAGERS, obj="staff_member"),
    "staff-deactivate": Roles(STAFF_MANAGERS, obj="staff_member"),
    "staff-reactivate": Roles(STAFF_MANAGERS, obj="staff_member"),
    "language-set": SignedIn("the signed-in user's own language"),
    "favicon": Public("the site icon: a redirect to a static file"),
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
    # --- code lists (codelists/views.py: every page is ministry_only; access.py hides drafts) ---
    "codelists:system-list": Roles(MINISTRY),
    "codelists:system-detail": Roles(MINISTRY),
    "codelists:compare": Roles(MINISTRY),
    "codelists:history": Roles(MINISTRY),
    "codelists:version-detail": Roles(MINISTRY, obj="draft_version"),
    "codelists:draft-update": Roles(MINISTRY, obj="draft_version"),
    "codelists:version-submit": Roles(MINISTRY, obj="draft_version"),
    "codelists:version-publish": Roles(MINISTRY, obj="draft_version"),  # + can_review: another admin
    "codelists:version-send-back": Roles(MINISTRY, obj="draft_version"),
    "codelists:draft-discard": Roles(MINISTRY, obj="draft_version"),
    "codelists:version-export": Roles(MINISTRY, obj="draft_version"),
    "codelists:import-upload": Roles(MINISTRY, obj="draft_version"),
    # issue 17: a provincial officer reads published versions' reports for their province only
    "codelists:impact-index": Roles(PROVINCE_DASHBOARD),
    "codelists:version-impact": Roles(PROVINCE_DASHBOARD, obj="draft_version"),
    "codelists:version-impact-export": Roles(PROVINCE_DASHBOARD, obj="draft_version"),
    "codelists:import-preview": Roles(MINISTRY, obj="draft_version"),  # job: the uploader's own only
    "codelists:import-confirm": Roles(MINISTRY, obj="draft_version"),
    "codelists:concept-add": Roles(MINISTRY, obj="draft_version"),
    "codelists:concept-edit": Roles(MINISTRY, obj="draft_version"),
    "codelists:concept-retire": Roles(MINISTRY, obj="draft_version"),
    "api-codelists-systems": Public("published code lists are public data (codelists/access.py)"),
    "api-codelists-system": Public("published code lists are public data"),
    "api-codelists-versions": Public("published/retired versions are public; drafts listed for ministry only"),
    "api-codelists-concepts": Public(
        "concepts of a published version are public; a draft is 404 for others", obj="draft_version"
    ),
    "api-codelists-validate": Public("validation against the published version"),
    "fhir-metadata": Public("FHIR CapabilityStatement: describes the server, no data"),
    "fhir-unknown": Public("any other FHIR URL: an OperationOutcome 404, no data"),
    "fhir-codesystem-search": Public("FHIR terminology: published code systems only"),
    "fhir-codesystem-lookup": Public("FHIR terminology: published code systems only"),
    "fhir-codesystem-validate-code": Public("FHIR terminology: published code systems only"),
    "fhir-codesystem-read": Public("FHIR terminology: published code systems only"),
    "fhir-valueset-expand": Public("FHIR terminology: published code systems only"),
    "fhir-conceptmap-search": Public("FHIR terminology: concept maps of published code lists only"),
    "fhir-conceptmap-read": Public("FHIR terminology: concept maps of published code lists only"),
    "fhir-conceptmap-translate": Public("FHIR terminology: concept maps of published code lists only"),
    # --- facilities (facilities/views*.py, access.py: any staff member reads within scope) ---
    "facility-list": Roles(ALL_ROLES),
    "facility-export": Roles(ALL_ROLES),
    "facility-register": Roles((Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN)),
    "facility-queue": Roles((*MINISTRY, Role.PROVINCE_OFFICER)),
    "facility-import": Roles((Role.PROVINCE_OFFICER,)),
    "facility-import-confirm": Roles((Role.PROVINCE_OFFICER,)),  # upload: the importer's own only
    "facility-my-credentials": Roles((Role.FACILITY_ADMIN,)),
    "facility-detail": Roles(ALL_ROLES, obj="facility"),
    "facility-edit": Roles((Role.PROVINCE_OFFICER, Role.FACILITY_ADMIN), obj="facility"),
    "facility-decide": Roles((Role.PROVINCE_OFFICER,), obj="facility_decision"),
    # the silent-facility reminder: an officer of the facility's own province (facilities/access.py)
    "facility-silent-remind": Roles((Role.PROVINCE_OFFICER,), obj="facility"),
    "facility-credentials": Roles((Role.FACILITY_ADMIN,), obj="facility"),
    "facility-key-create": Roles((Role.FACILITY_ADMIN,), obj="facility"),
    "facility-key-revoke": Roles((Role.FACILITY_ADMIN,), obj="facility"),
    "facility-cert-add": Roles((Role.FACILITY_ADMIN,), obj="facility"),
    "facility-cert-revoke": Roles((Role.FACILITY_ADMIN,), obj="facility"),
    "api-facility-list": Roles(ALL_ROLES),
    "api-facility-detail": Roles(ALL_ROLES, obj="facility"),
    # Directory reads over FHIR: staff sessions within their scope, or a facility's software.
    "fhir-organization-read": Roles(ALL_ROLES, obj="facility"),
    "fhir-location-read": Roles(ALL_ROLES, obj="facility"),
    # --- insurance-card batches (healthbook/access.py: CARD_IMPORT_ROLES, officer: own province) ---
    "card-batch-list": Roles(CARD_IMPORT),
    "card-batch-detail": Roles(CARD_IMPORT, obj="card_batch"),
    "card-batch-progress": Roles(CARD_IMPORT, obj="card_batch"),
    "card-batch-rejected": Roles(CARD_IMPORT, obj="card_batch"),
    "api-card-batches": Roles(CARD_IMPORT),
    "api-card-batch": Roles(CARD_IMPORT, obj="card_batch"),
    "api-card-batch-rejected": Roles(CARD_IMPORT, obj="card_batch"),
    # --- intake: submissions (status and problems only; reprocess: ministry) ---
    "submission-list": Roles(SUBMISSION_READERS),
    "submission-detail": Roles(SUBMISSION_READERS, obj="submission"),
    # reprocess: the sending facility's administrator or a ministry administrator (issue 15, attack 15)
    "submission-reprocess": Roles((Role.MINISTRY_ADMIN, Role.FACILITY_ADMIN), obj="submission"),
    # a held submission is decided by its province or the ministry administrator, never by its facility
    "submission-review": Roles((Role.MINISTRY_ADMIN, Role.PROVINCE_OFFICER), obj="submission"),
    "api-submissions": Machine("facility software posts XML 130 with its API key"),
    "api-submission": Machine("facility software reads its own submission with its API key"),
    # --- doctor book pages (healthbook/book_views.py: doctors with a care relationship or an
    # emergency grant; any other role 404; a doctor without relationship 403 + emergency form) ---
    "citizen-search": Roles(DOCTOR),
    # Break-the-glass: by design any doctor may open any book with a reason (reviewed afterwards),
    # so no object is out of scope for it; other roles get 404.
    "book-emergency": Roles(DOCTOR),
    "book-share-code": Roles(DOCTOR),  # a code the citizen gave the facility (issue 19)
    "share-code-open": Roles(DOCTOR),  # the same, from the search page
    "book-detail": Roles(DOCTOR, obj="book"),
    "book-timeline": Roles(DOCTOR, obj="book"),
    "book-visit": Roles(DOCTOR, obj="book"),
    "book-labs": Roles(DOCTOR, obj="book"),
    "book-lab-chart": Roles(DOCTOR, obj="book"),
    "book-vaccinations": Roles(DOCTOR, obj="book"),
    "book-pregnancies": Roles(DOCTOR, obj="book"),
    "book-prescriptions": Roles(DOCTOR, obj="book"),
    "book-follow-ups": Roles(DOCTOR, obj="book"),
    "book-certificates": Roles(DOCTOR, obj="book"),
    "book-certificate": Roles(DOCTOR, obj="book"),
    "book-certificate-file": Roles(DOCTOR, obj="book"),
    "book-record": Roles(DOCTOR, obj="book"),
    "book-access-log": Roles(DOCTOR, obj="book"),
    # Emergency accesses are reviewed by the facility's province, never by the facility itself.
    "emergency-review-list": Roles((Role.PROVINCE_OFFICER,)),
    "emergency-review": Roles((Role.PROVINCE_OFFICER,), obj="emergency_grant"),
    "api-citizen-lookup": Machine("facility software with the token a doctor granted it (personal ID in the body)"),
    "api-citizen-history": Machine("facility software with the token a doctor granted it"),
    "api-citizen-access-log": Machine("the citizen app (its own key): who looked at a citizen's book"),
    "fhir-patient-everything": Machine("facility software with the token a doctor granted it"),
    # OAuth2 for facility software reading for a doctor (facilities.software_grants).
    "oauth-authorize": Roles(DOCTOR),  # the doctor's consent; other roles get 403
    "oauth-token": Machine("facility software exchanges a code with its API key (no session)"),
    "oauth-my-software": Roles(DOCTOR),
    "oauth-my-software-revoke": Roles(DOCTOR, obj="practitioner_token"),
    # --- messages not delivered (healthbook/notifications/access.py: officer own province, ministry all) ---
    "notification-failed-list": Roles(PROVINCE_DASHBOARD),
    "notification-retry": Roles(PROVINCE_DASHBOARD, obj="dead_letter"),
    # --- dashboards (provinces/views.py, access.py: officer own province, ministry national) ---
    "dashboard-mine": Roles(PROVINCE_DASHBOARD),
    "dashboard-national": Roles(MINISTRY),
    "dashboard-national-export": Roles(MINISTRY),
    "dashboard-province": Roles(PROVINCE_DASHBOARD, obj="province"),
    "dashboard-province-export": Roles(PROVINCE_DASHBOARD, obj="province_export"),
    "dashboard-province-communes": Roles(PROVINCE_DASHBOARD, obj="province"),
    "dashboard-province-communes-export": Roles(PROVINCE_DASHBOARD, obj="province_communes_export"),
    # --- cohorts (cohorts/views.py, access.py: counts for the officer's province, rules for the ministry) ---
    "cohorts-mine": Roles(PROVINCE_DASHBOARD),
    "cohorts-national": Roles(MINISTRY),
    "cohorts-national-export": Roles(MINISTRY),
    "cohorts-province": Roles(PROVINCE_DASHBOARD, obj="province"),
    "cohorts-province-export": Roles(PROVINCE_DASHBOARD, obj="cohort_province_export"),
    "cohorts-detail": Roles(PROVINCE_DASHBOARD, obj="cohort"),
    "cohorts-detail-export": Roles(PROVINCE_DASHBOARD, obj="cohort_detail_export"),
    "cohorts-definitions": Roles(MINISTRY),
    "cohorts-definition-new": Roles(MINISTRY),
    "cohorts-definition": Roles(MINISTRY),
    # the data-protection report of citizens' copy requests (healthbook.copies, issue 19)
    "data-protection": Roles((Role.MINISTRY_ADMIN,)),
    "data-protection-csv": Roles((Role.MINISTRY_ADMIN,)),
    # public-health line lists (publichealth/access.py, issue 20): the province public-health
    # officer, own province, own openings only
    "ph-cohort-index": Roles(PUBLIC_HEALTH),
    "ph-line-list-open": Roles(PUBLIC_HEALTH),
    "ph-line-list": Roles(PUBLIC_HEALTH, obj="line_list"),
    "ph-line-list-export": Roles(PUBLIC_HEALTH, obj="line_list"),
    "ph-reminders-send": Roles(PUBLIC_HEALTH, obj="line_list"),
}

# (prefix of the URL name or of the route, rule). Only for URL families guarded as a whole.
PREFIX_RULES = [
    # The citizen API: the VNeID platform's signed citizen token only (citizenapi.auth).
    ("citizenapi:", Machine("the VNeID platform with a signed citizen token (no personal ID in the URL)")),
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
