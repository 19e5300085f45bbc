"""ASGI entry point: HTTP through Django wrapped in brotli-asgi (brotli, falling
back to gzip), except the event stream; WebSockets through Channels (events/)."""

import os

from django.core.asgi import get_asgi_application

from alphaforge.tracing import tracing_install

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")
tracing_install(service="alphaforge-realtime")  # only with OTEL_EXPORTER_OTLP_ENDPOINT
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


def lifespan_application(events_routing):  # type: ignore[no-untyped-def]
    """Start-up needs nothing; at shutdown the event tailer stops cleanly."""

    async def application(scope, receive, send):  # type: ignore[no-untyped-def]
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await events_routing.tailer_stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return application


def build_router(http_application):  # type: ignore[no-untyped-def]
    from channels.routing import ProtocolTypeRouter, URLRouter

    from events import routing as events_routing

    async def http(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["path"] == events_routing.STREAM_PATH:
            return await events_routing.stream_application(scope, receive, send)
        return await http_application(scope, receive, send)

    return ProtocolTypeRouter(
        {
            "http": http,
            "websocket": URLRouter(events_routing.websocket_urlpatterns),
            "lifespan": lifespan_application(events_routing),
        }
    )


application = build_router(build_application())
