"""Live events for one ASGI process: one task tails the log and fans out.

The database log is the only source of truth. The tailer reads `id > position`
(ids become readable in order, events.services.events_record) at least every
EVENTS_POLL_SECONDS, at once when a commit wakes it through the channel layer,
and offers each event to every subscriber of this process. A subscriber first
replays the stored events after its `after` up to the tailer's position, then
attaches at exactly that position, so it gets every id once, increasing. A
subscriber that asked for batches gets the events waiting for it in groups.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max

from .filters import EventFilter
from .models import Event
from .services import EVENTS_GROUP

logger = logging.getLogger(__name__)
PAGE = 1000
# How long a burst waits, per slice, for readers to catch up (Tailer._dispatch).
DRAIN_SECONDS = 0.25
# A batch holds at most this many events and, unless one event is larger alone,
# this much text: well under the 1 MiB message limit common WebSocket clients keep.
BATCH_EVENTS, BATCH_CHARS = 100, 256 * 1024


@dataclass(frozen=True, slots=True)
class LiveEvent:
    id: int
    type: str
    pair: str
    timeframe: str
    confidence: Decimal | None
    text: str  # the contract's event object as JSON, as stored (Event.body)


def batches(events: list[LiveEvent]) -> Iterator[list[LiveEvent]]:
    """Consecutive events in groups within BATCH_EVENTS and BATCH_CHARS."""
    group: list[LiveEvent] = []
    size = 0
    for event in events:
        if group and (
            len(group) == BATCH_EVENTS or size + len(event.text) > BATCH_CHARS
        ):
            yield group
            group, size = [], 0
        group.append(event)
        size += len(event.text)
    if group:
        yield group


@database_sync_to_async
def _read(after: int, through: int | None, wanted: EventFilter | None) -> list:
    queryset = Event.objects.after(after)
    if through is not None:
        queryset = queryset.filter(id__lte=through)
    if wanted is not None:
        queryset = wanted.apply(queryset)
    return [LiveEvent(*row) for row in queryset.for_api()[:PAGE]]


@database_sync_to_async
def _head() -> int:
    return Event.objects.aggregate(head=Max("id"))["head"] or 0


class Subscriber:
    """One reader's filter, position and bounded queue of live events."""

    def __init__(
        self,
        on_overflow: Callable[[], None],
        wanted: EventFilter | None = None,
        *,
        batch: bool = False,
    ) -> None:
        self.filter = EventFilter() if wanted is None else wanted
        self.batch = batch  # several waiting events may be sent together
        self.position = 0  # the last id this reader got or was skipped past
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue()
        self.on_overflow = on_overflow
        self.overflowed = False

    def offer(self, event: LiveEvent) -> None:
        """Called by the tailer for each new event; never waits."""
        if event.id <= self.position or self.overflowed:
            return
        if not self.filter.matches(event):
            return
        if self.queue.qsize() >= settings.WS_MAX_PENDING:
            self.overflowed = True
            self.on_overflow()
            return
        self.queue.put_nowait(event)

    def groups(self, events: list[LiveEvent]) -> Iterator[list[LiveEvent]]:
        """How `events` are sent: in batches, or one by one."""
        if self.batch:
            yield from batches(events)
        else:
            for event in events:
                yield [event]

    def waiting(self, first: LiveEvent) -> list[LiveEvent]:
        """`first` and, for a batch subscriber, what waits behind it (at most
        BATCH_EVENTS in all), taken off the queue."""
        events = [first]
        while self.batch and len(events) < BATCH_EVENTS and not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events


class Tailer:
    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.position = 0
        self.task: asyncio.Task | None = None
        self.wake = asyncio.Event()
        self.starting = asyncio.Lock()

    async def start(self) -> None:
        async with self.starting:
            if self.task is None:
                self.position = await _head()
                self.task = asyncio.get_running_loop().create_task(self._run())

    async def follow(
        self,
        subscriber: Subscriber,
        after: int | None,
        send: Callable[[list[LiveEvent]], Awaitable[None]],
        idle: Callable[[], Awaitable[None]],
        idle_seconds: float,
    ) -> None:
        """Replay what is stored after `after` (None: from now), then send live
        events until cancelled; `idle` runs when nothing came for idle_seconds.
        `send` gets one event at a time, or a batch subscriber's waiting events
        (Subscriber.groups), in id order."""
        await self.start()
        subscriber.position = self.position if after is None else after
        while subscriber.position < self.position:
            through = self.position
            events = await _read(subscriber.position, through, subscriber.filter)
            for group in subscriber.groups(events):
                await send(group)
            subscriber.position = events[-1].id if len(events) == PAGE else through
        # No await since the check above: nothing the tailer offers next is missed.
        self.subscribers.add(subscriber)
        try:
            while True:
                try:
                    event = await asyncio.wait_for(subscriber.queue.get(), idle_seconds)
                except TimeoutError:
                    await idle()
                    continue
                for group in subscriber.groups(subscriber.waiting(event)):
                    await send(group)
        finally:
            self.subscribers.discard(subscriber)

    async def _run(self) -> None:
        listener = asyncio.get_running_loop().create_task(self._listen())
        try:
            while True:
                self.wake.clear()
                try:
                    events = await _read(self.position, None, None)
                except Exception:
                    logger.warning("event tailer could not read the log", exc_info=True)
                    events = []
                await self._dispatch(events)
                if len(events) < PAGE:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self.wake.wait(), settings.EVENTS_POLL_SECONDS
                        )
        finally:
            listener.cancel()

    async def _dispatch(self, events: list[LiveEvent]) -> None:
        """Offer events to every subscriber, a slice at a time. After each slice of
        a burst, wait (briefly) for readers to drain to half their allowance: a
        burst larger than WS_MAX_PENDING (a bulk write) then overflows only the
        readers that do not read, not every reader at once."""
        size = max(1, settings.WS_MAX_PENDING // 2)
        for start in range(0, len(events), size):
            if start:
                await self._drained(size)
            for event in events[start : start + size]:
                for subscriber in list(self.subscribers):
                    subscriber.offer(event)
                self.position = event.id

    async def _drained(self, size: int) -> None:
        deadline = asyncio.get_running_loop().time() + DRAIN_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            if all(s.queue.qsize() <= size for s in self.subscribers):
                return
            await asyncio.sleep(0.005)

    async def _listen(self) -> None:
        """Set `wake` on every commit anywhere (the channel layer group)."""
        layer = get_channel_layer()
        if layer is None:
            return
        while True:
            try:
                channel = await layer.new_channel()
                await layer.group_add(EVENTS_GROUP, channel)
                while True:
                    # Group membership expires; renew it now and then.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(layer.receive(channel), 3600)
                        self.wake.set()
                        continue
                    await layer.group_add(EVENTS_GROUP, channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                if asyncio.current_task().cancelling():
                    raise asyncio.CancelledError from None  # redis-py renamed it
                logger.warning("event tailer not woken by commits", exc_info=True)
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None


_tailers: dict[asyncio.AbstractEventLoop, Tailer] = {}


def tailer() -> Tailer:
    """This process's tailer (one per event loop)."""
    loop = asyncio.get_running_loop()
    if loop not in _tailers:
        _tailers[loop] = Tailer()
    return _tailers[loop]
