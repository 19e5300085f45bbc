"""ASGI entry point, wrapped in brotli-asgi (brotli, falling back to gzip)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")
# brotli-asgi below compresses, so Django's own compression middleware stands aside.
os.environ["ALPHAFORGE_SERVER"] = "asgi"

django_application = get_asgi_application()


def build_application():  # type: ignore[no-untyped-def]
    from brotli_asgi import BrotliMiddleware
    from django.conf import settings

    if not settings.ENABLE_COMPRESSION:
        return django_application
    return BrotliMiddleware(django_application, minimum_size=500, gzip_fallback=True)


application = build_application()
