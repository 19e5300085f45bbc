"""What alphaforge/asgi.py serves from this app: the WebSocket routes, the stream's
path and application, and the shutdown of the process's tailer."""

from django.urls import path

from .consumers import EventConsumer
from .sse import stream_application
from .tailer import tailer

STREAM_PATH = "/api/events/stream"
websocket_urlpatterns = [path("ws/events/", EventConsumer.as_asgi())]

__all__ = ["STREAM_PATH", "stream_application", "tailer_stop", "websocket_urlpatterns"]


async def tailer_stop() -> None:
    """Stop this process's tailer (the server is shutting down)."""
    await tailer().stop()
