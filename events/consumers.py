"""The WebSocket `/ws/events/`: subscribe, replay, then live events (tailer)."""

import asyncio
import contextlib
import json
from collections import Counter
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from api.throttling import client_ip

from .filters import FilterError, subscription_from_message
from .tailer import LiveEvent, Subscriber, tailer

CLOSE_SLOW = 4008
CLOSE_TOO_MANY = 4029
_connections: Counter[str] = Counter()  # open sockets of this process, by address


def scope_client_ip(scope: dict[str, Any]) -> str:
    """api.throttling.client_ip (NUM_PROXIES rule) on an ASGI scope."""
    meta = {"REMOTE_ADDR": (scope.get("client") or ("", 0))[0]}
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            meta["HTTP_X_FORWARDED_FOR"] = value.decode("latin-1")
    return client_ip(meta)


async def _stopped(task: asyncio.Task | None) -> None:
    """Cancel a task of the connection and wait for it; a send failing because
    the client went away meanwhile is expected."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, RuntimeError, OSError):
        await task


class EventConsumer(AsyncWebsocketConsumer):
    # No channel of its own on the layer (no Redis connection per socket): the
    # process's tailer feeds every consumer.
    channel_layer_alias = "events-consumers-use-none"
    ip = ""
    follower: asyncio.Task | None = None
    pinger: asyncio.Task | None = None

    async def connect(self) -> None:
        self.sending = asyncio.Lock()
        await self.accept()
        ip = scope_client_ip(self.scope)
        if _connections[ip] >= settings.WS_MAX_CONNECTIONS_PER_IP:
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.ip = ip
        _connections[ip] += 1
        self.pinger = asyncio.get_running_loop().create_task(self._ping())

    async def disconnect(self, code: int) -> None:
        for task in (self.follower, self.pinger):
            await _stopped(task)
        if self.ip:
            _connections[self.ip] -= 1
            if _connections[self.ip] <= 0:
                del _connections[self.ip]
            self.ip = ""

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        try:
            message = json.loads(text_data) if text_data is not None else None
            subscription = subscription_from_message(message)
        except (ValueError, FilterError) as error:
            detail = error.errors if isinstance(error, FilterError) else "Not JSON."
            await self._send({"type": "error", "detail": detail})
            return
        await _stopped(self.follower)
        subscriber = Subscriber(
            self._overflowed, subscription.filter, batch=subscription.batch
        )
        live = tailer()
        await live.start()
        # Without `after`, live from now, whether or not it replaces a subscription:
        # nothing stored is replayed for the new filter.
        after = live.position if subscription.after is None else subscription.after
        await self._send({"type": "subscribed", "after": after})
        self.follower = asyncio.get_running_loop().create_task(
            live.follow(subscriber, after, self._send_events, self._noop, 3600)
        )

    async def _send(self, message: dict[str, Any]) -> None:
        async with self.sending:
            await self.send(text_data=json.dumps(message))

    async def _send_events(self, events: list[LiveEvent]) -> None:
        """One event as its object; a batch as a JSON array of them."""
        if len(events) == 1:
            text = events[0].text
        else:
            text = "[" + ",".join(event.text for event in events) + "]"
        async with self.sending:
            await self.send(text_data=text)

    async def _noop(self) -> None:
        return None

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(settings.WS_PING_SECONDS)
            await self._send({"type": "ping"})

    def _overflowed(self) -> None:
        """More than WS_MAX_PENDING events wait: close with 4008 (resume with after)."""
        asyncio.get_running_loop().create_task(self._close_slow())

    async def _close_slow(self) -> None:
        await _stopped(self.follower)  # no event may follow the close
        with contextlib.suppress(RuntimeError, OSError):  # gone meanwhile
            await self.close(code=CLOSE_SLOW)
