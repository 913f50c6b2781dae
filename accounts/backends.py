"""Authentication backends of the portal: Django's and allauth's, with a cheaper `get_user`.

Every signed-in request loads the user from the session. The portal then needs the user's
facility (access decisions, the access log) and whether a TOTP authenticator is enrolled
(RequireMFAMiddleware): the stock backends ask three queries for that, these ask one — the
user row joined to its facility, with the enrolment as an EXISTS column. The values are read
fresh on every request, as before; nothing is cached between requests.
"""

from allauth.account.auth_backends import AuthenticationBackend
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef

from core.compiled import CompiledQuery


def _request_user_queryset(s: dict):
    User = get_user_model()  # noqa: N806
    totp = Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP)
    return (
        User._default_manager.select_related("facility")
        .annotate(mfa_totp_enrolled=Exists(totp))
        .filter(pk=s["user_pk"])
        .order_by("pk")[:1]
    )


# Compiled once per thread (core.compiled): the ORM's SQL, run with the session's user id.
_REQUEST_USER = CompiledQuery(_request_user_queryset, {"user_pk": -730_999_201})


def user_for_request(user_id):
    """The active-or-not user with `facility` joined and `mfa_totp_enrolled` set, or None."""
    rows = _REQUEST_USER.run({"user_pk": int(user_id)})
    return rows[0] if rows else None


class _RequestUserMixin:
    def user_can_authenticate(self, user) -> bool:
        """Active, and approved by the second party where the role needs one (User.is_pending):
        checked at sign-in and on every request, so an unapproved account has no session."""
        return super().user_can_authenticate(user) and not getattr(user, "is_pending", False)

    def get_user(self, user_id):
        try:
            user = user_for_request(user_id)
        except (ValueError, TypeError):
            return None
        return user if user is not None and self.user_can_authenticate(user) else None


class PortalModelBackend(_RequestUserMixin, ModelBackend):
    """django.contrib.auth.backends.ModelBackend with the one-query get_user."""


class PortalAuthenticationBackend(_RequestUserMixin, AuthenticationBackend):
    """allauth's backend (username or e-mail login) with the one-query get_user."""
