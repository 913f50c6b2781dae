"""Test overlay: production-shaped settings (DEBUG off) with what a test run needs.

The environment is filled before the main module reads it; the main module stays the one
place where settings are defined.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-" + "k3y" * 20)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_BEHIND_TLS_PROXY", "0")
os.environ.setdefault("DJANGO_HSTS_SECONDS", "0")
os.environ.setdefault("SSKDT_FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("SSKDT_ACCESS_LOG_KEY", "test-only-access-log-" + "k3y" * 12)

from config.settings import *  # noqa: E402,F403

# The live-server browser tests talk plain HTTP on loopback.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Serve static files from the app folders (no collectstatic in tests; the browser test loads them).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Live-server threads must not keep connections open past a test (the test DB is dropped at the end).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# The tests connect as the owner role when there is one: they create, migrate and flush the test
# database and play the attacker. The application role (SSKDT_DATABASE_APP_ROLE, DATABASE_URL's
# user) is exercised where it matters with SET ROLE (the `app_role` fixture, tests/conftest.py);
# the owner must be a member of it (config/dbroles.py sets that up).
# A DATABASE_URL naming another server (the throwaway clusters of the fault and restore tests,
# given to their child processes) has no owner role here: one role there.
if DATABASE_OWNER and (DATABASE_OWNER["HOST"], DATABASE_OWNER["PORT"]) == (  # noqa: F405
    DATABASES["default"]["HOST"],  # noqa: F405
    DATABASES["default"]["PORT"],  # noqa: F405
):
    DATABASES["default"].update({k: DATABASE_OWNER[k] for k in ("USER", "PASSWORD", "HOST", "PORT")})  # noqa: F405
else:
    DATABASE_OWNER = None
