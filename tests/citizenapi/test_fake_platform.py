"""The fake VNeID platform of `make run`: its key is made and registered by the demo command,
its tokens are accepted by the portal, and its pages show the book in Vietnamese."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from citizenapi import fakevneid
from citizenapi.models import PlatformKey

pytestmark = pytest.mark.django_db


def test_demo_command_is_refused_without_debug(settings, tmp_path):
    settings.DEBUG = False
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError):
        call_command("citizen_platform_demo")


def test_the_fake_platform_signs_in_a_demo_citizen_and_shows_every_page(settings, tmp_path, client, patient_a):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    call_command("citizen_platform_demo", "--url", "http://127.0.0.1:8010")
    call_command("citizen_platform_demo", "--url", "http://127.0.0.1:8010")  # every start: idempotent
    assert PlatformKey.objects.filter(kid="fake-vneid-1", client__issuer="http://127.0.0.1:8010").count() == 1
    config = json.loads((tmp_path / "fake-vneid" / "config.json").read_text())
    assert (tmp_path / "fake-vneid" / "key.pem").stat().st_mode & 0o077 == 0
    assert patient_a.personal_id in {p["pid"] for p in config["citizens"]}
    platform = fakevneid.Platform(config)
    session = {"pid": patient_a.personal_id, "name": patient_a.full_name, "act_for": None}
    for slug, title in fakevneid.PAGES:
        token = platform.token(session)
        response = client.get(
            reverse(f"citizenapi:{slug}"), HTTP_AUTHORIZATION=f"Citizen-Token {token}", HTTP_ACCEPT_LANGUAGE="vi"
        )
        assert response.status_code == 200
        html = fakevneid.page(title, fakevneid.RENDER[slug](response.json()), session).decode()
        assert patient_a.personal_id not in html
        if slug == "summary":
            assert "Nguyễn Văn Bệnh" in html and "Tăng huyết áp" in html and "/" in html
    login = fakevneid.page("Đăng nhập", "").decode()
    assert "<script" not in login and "style=" not in login
