"""Refuse a request body larger than the portal ever accepts, before a byte of it is read (S17).

Django streams multipart uploads to temporary files as it reads them, and the card import
only checks the size of the stored file: a 50 GB upload would fill the temporary area first.
This middleware answers 413 from the declared Content-Length instead, so nothing is read,
spooled or stored. (Under WSGI a body without Content-Length is read as empty, so the declared
length is the whole body Django will see.) The limit is the largest legitimate body: the card
import limit or the intake limit, plus room for the multipart framing; the reverse proxy's
`client_max_body_size` should say the same.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

MULTIPART_OVERHEAD = 1024 * 1024


def max_request_bytes() -> int:
    explicit = getattr(settings, "SSKDT_MAX_REQUEST_BYTES", 0)
    if explicit:
        return int(explicit)
    return max(int(settings.CARD_IMPORT_MAX_BYTES), int(settings.INTAKE_MAX_BYTES)) + MULTIPART_OVERHEAD


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = max_request_bytes()
        if declared > limit:
            message = _("The request is larger than the portal accepts (at most %(mb)s MB).") % {
                "mb": limit // (1024 * 1024)
            }
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "body_too_large", "message": message, "details": {"limit": limit, "size": declared}},
                    status=413,
                )
            return render(request, "errors/413.html", {"message": message}, status=413)
        return self.get_response(request)
