"""What a request gets while the database is away (R3 proves it against a real crash): 503 with
Retry-After, the API's JSON error shape or a plain Vietnamese page, never a 500 or a trace."""

import json

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import translation

from accounts.views import error_500


@pytest.mark.parametrize(
    "exc", [OperationalError("server closed the connection unexpectedly"), InterfaceError("connection already closed")]
)
def test_database_gone_is_503_not_500(rf, exc):
    with translation.override("vi"):
        try:
            raise exc
        except type(exc):
            api = error_500(rf.get("/api/v1/submissions/"))
            page = error_500(rf.get("/books/card-batches/"))
    assert (api.status_code, api["Retry-After"]) == (503, "5")
    body = json.loads(api.content)
    assert body["code"] == "unavailable" and "tạm thời" in body["message"]
    assert page.status_code == 503 and "Dịch vụ tạm thời không sẵn sàng" in page.content.decode()


def test_other_errors_stay_500(rf):
    try:
        raise ValueError("a bug")
    except ValueError:
        api = error_500(rf.get("/api/v1/submissions/"))
    assert api.status_code == 500 and json.loads(api.content)["code"] == "server_error"
