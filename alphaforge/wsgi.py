"""WSGI entry point (production default, see docker/ and README).

Anonymous reads of cached signal answers are served by AnonymousCacheApp before
Django handles the request at all (api/fast_path.py).
"""

import os

from django.core.wsgi import get_wsgi_application

from alphaforge.tracing import tracing_install

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")
tracing_install(service="alphaforge-web")  # nothing unless OTEL_EXPORTER_OTLP_ENDPOINT

django_application = get_wsgi_application()

from api.fast_path import AnonymousCacheApp  # noqa: E402 (needs Django set up)

application = AnonymousCacheApp(django_application)
