"""The server side of bench/ws_frames.py: the same broadcast behind two ASGI
stacks, so the cost per frame of the stack itself can be measured.

- `channels_application`: a Channels AsyncWebsocketConsumer, as events.consumers
  was before the measurement (one follower task per socket reading its queue).
- `raw_application`: a plain ASGI WebSocket application with the same queue and
  follower task, sending with the server's `send` directly.

A client sending "go N" makes the process put N copies of a ~600-byte event
text into every socket's queue; each follower sends them one frame each. The
driver reads the process's CPU time around the burst.
"""

import asyncio
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

import django  # noqa: E402

django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402

TEXT = (
    '{"id":%d,"type":"signal.created","occurred_at":"2026-01-05T14:00:03.120000Z",'
    '"data":{"id":1,"pair":"EUR/USD","timeframe":"1h","direction":"buy",'
    '"entry_price":1.1,"stop_loss":1.095,"take_profit":1.11,"confidence":63.5,'
    '"status":"active","outcome":null,"timestamp":"2026-01-05T14:00:00Z",'
    '"risk_reward":2.0,"strategy":"trend_momentum","indicators":{"rsi":55.1},'
    '"reasoning":"EMA 12 above EMA 26; RSI 55","exit_price":null,"pips":null,'
    '"mae_pips":null,"mfe_pips":null,"closed_at":null,'
    '"created_at":"2026-01-05T14:00:03.100000Z",'
    '"updated_at":"2026-01-05T14:00:03.100000Z","score":71.2,"calibration_id":3}}'
)
queues: set[asyncio.Queue] = set()


def broadcast(count: int) -> None:
    for n in range(count):
        text = TEXT % n
        for queue in queues:
            queue.put_nowait(text)


async def _follow(queue: asyncio.Queue, send) -> None:  # type: ignore[no-untyped-def]
    while True:
        await send(await queue.get())


class BroadcastConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = "none"

    async def connect(self) -> None:
        await self.accept()
        self.queue: asyncio.Queue = asyncio.Queue()
        queues.add(self.queue)
        self.follower = asyncio.ensure_future(
            _follow(self.queue, lambda text: self.send(text_data=text))
        )

    async def disconnect(self, code: int) -> None:
        queues.discard(self.queue)
        self.follower.cancel()

    async def receive(self, text_data=None, bytes_data=None) -> None:  # type: ignore[no-untyped-def]
        if text_data and text_data.startswith("go "):
            broadcast(int(text_data[3:]))


channels_application = BroadcastConsumer.as_asgi()


async def raw_application(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    queue: asyncio.Queue = asyncio.Queue()
    queues.add(queue)

    async def send_text(text: str) -> None:
        await send({"type": "websocket.send", "text": text})

    follower = asyncio.ensure_future(_follow(queue, send_text))
    try:
        while (message := await receive())["type"] == "websocket.receive":
            text = message.get("text") or ""
            if text.startswith("go "):
                broadcast(int(text[3:]))
    finally:
        queues.discard(queue)
        follower.cancel()


async def channels_router(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        return await raw_application(scope, receive, send)
    return await channels_application(scope, receive, send)
