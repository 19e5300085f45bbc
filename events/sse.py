"""Server-sent events, `GET /api/events/stream`: a plain ASGI application (no
middleware or compression in the way of a stream), fed by the process's tailer."""

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from django.conf import settings

from .filters import FilterError, after_from_params, filter_from_params
from .services import events_pruned_past
from .tailer import LiveEvent, Subscriber, tailer

GONE = "Events after this id were pruned; resynchronise from the signal list."
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
]


async def _answer(send: Any, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _chunk(body: bytes) -> dict[str, Any]:
    return {"type": "http.response.body", "body": body, "more_body": True}


def _request(scope: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    last_id = None
    for name, value in scope.get("headers", []):
        if name == b"last-event-id":
            last_id = value.decode("latin-1").strip()
    return params, last_id


async def stream_application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        await _answer(send, 405, {"detail": f'Method "{scope["method"]}" not allowed.'})
        return
    params, last_id = _request(scope)
    try:
        wanted = filter_from_params(params)
        if "after" in params:
            after: int | None = after_from_params(params)
        elif last_id:
            after = after_from_params({"Last-Event-ID": last_id}, "Last-Event-ID")
        else:
            after = None
    except FilterError as error:
        await _answer(send, 400, error.errors)
        return
    oldest = None
    if after is not None:
        oldest = await database_sync_to_async(events_pruned_past)(after)
    if oldest is not None:
        await _answer(send, 410, {"detail": GONE, "oldest_id": oldest})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})

    async def send_events(events: list[LiveEvent]) -> None:
        chunk = "".join(
            f"id: {event.id}\nevent: {event.type}\ndata: {event.text}\n\n"
            for event in events
        )
        await send(_chunk(chunk.encode()))

    async def heartbeat() -> None:
        await send(
            {
                "type": "http.response.body",
                "body": b": keep-alive\n\n",
                "more_body": True,
            }
        )

    done = asyncio.get_running_loop().create_future()
    subscriber = Subscriber(lambda: done.done() or done.set_result(None), wanted)
    await send(_chunk(b": ok\n\n"))
    follower = asyncio.ensure_future(
        tailer().follow(
            subscriber, after, send_events, heartbeat, settings.SSE_HEARTBEAT_SECONDS
        )
    )

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({follower, watcher, done}, return_when="FIRST_COMPLETED")
    finally:
        for task in (follower, watcher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
    if follower.done() and not follower.cancelled() and follower.exception():
        raise follower.exception()
    with contextlib.suppress(OSError):
        await send({"type": "http.response.body", "body": b"", "more_body": False})
