"""WSGI entry point (production default, see docker/ and README)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

application = get_wsgi_application()
