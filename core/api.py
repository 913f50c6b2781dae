"""API conventions shared by every endpoint: one JSON error shape.

Every error body is {"code": str, "message": str, "details": ...}: `code` is stable
and machine-readable, `message` is for people (in the request's language).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApiError(exceptions.APIException):
    """An error with its own stable code, raised by services behind the API."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, code: str, message: str, *, details=None, status_code: int | None = None):
        super().__init__(detail=message, code=code)
        self.error_code = code
        self.details = details or {}
        if status_code:
            self.status_code = status_code


_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        body = {"code": exc.error_code, "message": str(exc.detail), "details": exc.details}
    elif isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": _("The request has invalid fields."), "details": exc.detail}
    else:
        code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
        detail = getattr(exc, "detail", "")
        body = {"code": code, "message": str(detail), "details": {}}
    response.data = body
    return response


def error_response(code: str, message: str, *, status_code: int, details=None) -> Response:
    return Response({"code": code, "message": message, "details": details or {}}, status=status_code)
