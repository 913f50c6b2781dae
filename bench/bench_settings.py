"""Settings for the bench server: the test settings with the bench URLs (bare endpoint)."""

from config.test_settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405 — keep connections between requests, as production does
