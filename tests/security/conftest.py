import pytest
from django.core.cache import cache
from django.test import Client

from tests.security.world import ACTOR_NAMES, build_world


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    cache.clear()  # allauth counts attempts in the cache; every check starts from zero
    yield
    cache.clear()


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def clients(world):
    """One client per actor name, signed in (with TOTP enrolled) except 'anonymous'."""
    out = {}
    for name in ACTOR_NAMES:
        c = Client()
        user = world.actors[name]
        if user is not None:
            c.force_login(user)
        out[name] = c
    return out


def body_text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")
