"""WSGI entry of the bench server (bench/bench_settings.py)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.bench_settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
