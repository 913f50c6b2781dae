#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 — load the settings now
    except ImproperlyConfigured as exc:
        # Django would carry on without settings and fail later with "Models aren't loaded yet";
        # say what is missing instead (DATABASE_URL, DJANGO_SECRET_KEY or DJANGO_DEBUG=1: README).
        sys.exit(f"manage.py: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
