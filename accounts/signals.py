"""Record every login, failed login and logout (the security record)."""

import time

from allauth.account.adapter import get_adapter
from allauth.account.signals import password_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.models import AuthEvent
from accounts.sessions import SIGNED_IN_AT_KEY
from core.logsafe import escape_controls


def _client(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    try:
        ip = get_adapter(request).get_client_ip(request)
    except Exception:  # noqa: BLE001 — no address must never block the record
        ip = None
    return ip, escape_controls(request.META.get("HTTP_USER_AGENT", ""))[:300]


@receiver(user_logged_in)
def _record_login(sender, request, user, **kwargs):
    ip, agent = _client(request)
    AuthEvent.objects.create(
        kind=AuthEvent.Kind.LOGIN, user=user, username_tried=user.get_username(), ip_address=ip, user_agent=agent
    )
    if request is not None and getattr(user, "language", None):
        request.session["_language"] = user.language
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT_KEY] = int(time.time())  # the absolute lifetime counts from here


@receiver(user_logged_out)
def _record_logout(sender, request, user, **kwargs):
    ip, agent = _client(request)
    AuthEvent.objects.create(
        kind=AuthEvent.Kind.LOGOUT,
        user=user if user and user.pk else None,
        username_tried=user.get_username() if user else "",
        ip_address=ip,
        user_agent=agent,
    )


@receiver(user_login_failed)
def _record_login_failed(sender, credentials, request=None, **kwargs):
    ip, agent = _client(request)
    tried = escape_controls(str(credentials.get("username") or credentials.get("email") or ""))[:254]
    AuthEvent.objects.create(kind=AuthEvent.Kind.LOGIN_FAILED, username_tried=tried, ip_address=ip, user_agent=agent)


@receiver(password_reset)
def _verify_address_on_set_password(sender, request, user, **kwargs):
    from accounts.services import invitation_accepted

    invitation_accepted(request, user)
