"""ASGI entry point, wrapped in brotli-asgi (brotli, falling back to gzip)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")
# brotli-asgi below compresses, so Django's own compression middleware stands aside.
os.environ["ALPHAFORGE_SERVER"] = "asgi"

django_application = get_asgi_application()


def lowercase_header_names(app):  # type: ignore[no-untyped-def]
    """Send response header names in lower case, as the ASGI spec asks.

    Django sends them as written ("Content-Length"); brotli-asgi sets and deletes
    the lower-case "content-length", so without this a compressed answer carried two
    Content-Length headers and the server dropped the connection.
    """

    async def application(scope, receive, send):  # type: ignore[no-untyped-def]
        async def send_lowercased(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                headers = [(name.lower(), value) for name, value in message["headers"]]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_lowercased)

    return application


def build_application():  # type: ignore[no-untyped-def]
    from brotli_asgi import BrotliMiddleware
    from django.conf import settings

    if not settings.ENABLE_COMPRESSION:
        return django_application
    return BrotliMiddleware(
        lowercase_header_names(django_application),
        minimum_size=500,
        gzip_fallback=True,
    )


application = build_application()
