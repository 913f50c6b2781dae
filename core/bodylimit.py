"""Refuse a request body larger than its URL accepts, before a byte of it is read (S17; issue
15, attack 14).

Django streams multipart uploads to temporary files as it reads them, and the card import
only checks the size of the stored file: a 2 GB upload to any URL would be read (and spooled)
before the view, or the login, decides anything. This middleware answers 413 from the declared
Content-Length instead, so nothing is read, spooled or stored. (Under WSGI a body without
Content-Length is read as empty, so the declared length is the whole body Django will see.)

- Every URL accepts at most `SSKDT_MAX_REQUEST_BYTES` (default 1 MiB: forms, JSON, a
  certificate), whoever sends it.
- An upload endpoint says so with `@accepts_large_body(limit)` on its view (function or DRF
  class); it accepts up to its own limit, and only from a signed-in user (session) or a caller
  presenting a valid key (`Authorization: Api-Key …`, checked by the key's own verifier). An
  anonymous caller gets 413 over the small limit, on the upload URLs too.

The middleware sits after AuthenticationMiddleware but before any middleware or view reads
the body (CSRF reads POST only in process_view, after every middleware's __call__). The session
is looked up only for a body over the small limit to an upload URL. The reverse proxy's
`client_max_body_size` should be the largest upload limit.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from core.authentication import credential_valid

MULTIPART_OVERHEAD = 1024 * 1024
DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024


def max_request_bytes() -> int:
    """The limit of every URL, for everyone (SSKDT_MAX_REQUEST_BYTES; 0 or unset: 1 MiB)."""
    return int(getattr(settings, "SSKDT_MAX_REQUEST_BYTES", 0) or DEFAULT_MAX_REQUEST_BYTES)


def accepts_large_body(limit: str | Callable[[], int]):
    """Mark an upload view (a function, or a DRF view class) as accepting bodies up to `limit`
    from signed-in users and valid keys: the name of a setting (its value plus room for the
    multipart framing) or a function returning bytes."""

    def mark(view):
        view.max_body_bytes = limit
        return view

    return mark


def upload_limit(callback) -> int | None:
    """The body limit of an upload view in bytes (its URL callback), or None for any other."""
    limit = getattr(callback, "max_body_bytes", None)
    if limit is None:  # DRF: as_view() keeps the class on the function
        limit = getattr(getattr(callback, "cls", None), "max_body_bytes", None)
    if limit is None:
        return None
    if isinstance(limit, str):
        return int(getattr(settings, limit)) + MULTIPART_OVERHEAD
    return int(limit())


def _too_large(request, limit: int, declared: int):
    message = _("The request is larger than the portal accepts (at most %(size)s).") % {"size": filesizeformat(limit)}
    if request.path.startswith(("/api/", "/fhir/")):
        return JsonResponse(
            {"code": "body_too_large", "message": message, "details": {"limit": limit, "size": declared}},
            status=413,
        )
    return render(request, "errors/413.html", {"message": message}, status=413)


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        small = max_request_bytes()
        if declared > small:
            try:
                limit = upload_limit(resolve(request.path_info).func)
            except Resolver404:
                limit = None
            if limit is None or declared > limit or not _signed_in_or_key(request):
                return _too_large(request, small if limit is None or declared <= limit else limit, declared)
        return self.get_response(request)


def _signed_in_or_key(request) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated) or credential_valid(request)
