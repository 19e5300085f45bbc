"""How the tailer groups what it sends (events.tailer): one event at a time, or a
batch subscriber's waiting events within the batch limits, in id order."""

import asyncio

from events import tailer
from events.tailer import LiveEvent, Subscriber, batches


def live(n: int, size: int = 10) -> LiveEvent:
    return LiveEvent(n, "signal.created", "EUR/USD", "1h", None, "x" * size)


def test_batches_keep_order_and_stay_within_the_count_and_size_limits(monkeypatch):
    monkeypatch.setattr(tailer, "BATCH_EVENTS", 3)
    monkeypatch.setattr(tailer, "BATCH_CHARS", 25)
    events = [live(1), live(2), live(3), live(4), live(5, 40), live(6), live(7)]
    groups = [[e.id for e in group] for group in batches(events)]
    # 3 at most; 25 characters at most unless one event is larger alone.
    assert groups == [[1, 2], [3, 4], [5], [6, 7]]


def test_a_plain_subscriber_sends_one_event_at_a_time():
    subscriber = Subscriber(lambda: None)
    events = [live(n) for n in range(1, 5)]
    assert list(subscriber.groups(events)) == [[event] for event in events]


def test_a_batch_subscriber_takes_what_waits_and_a_plain_one_takes_one(settings):
    settings.WS_MAX_PENDING = 1000

    async def scenario() -> tuple[list[int], list[int], int]:
        plain, batch = Subscriber(lambda: None), Subscriber(lambda: None, batch=True)
        for subscriber in (plain, batch):
            for n in range(1, 5):
                subscriber.offer(live(n))
        first_plain = plain.waiting(await plain.queue.get())
        first_batch = batch.waiting(await batch.queue.get())
        return (
            [e.id for e in first_plain],
            [e.id for e in first_batch],
            plain.queue.qsize(),
        )

    assert asyncio.run(scenario()) == ([1], [1, 2, 3, 4], 3)
