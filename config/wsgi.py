import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Say at start when the portal runs with one database role (development): the application role
# then owns the access log (core/dbroles.py). runserver prints the same system-check warning.
from core.dbroles import check_database_roles  # noqa: E402 — needs the apps loaded above

for _warning in check_database_roles():
    logging.getLogger("sskdt.startup").warning("%s (%s) %s", _warning.msg, _warning.id, _warning.hint)
