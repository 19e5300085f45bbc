"""Webhooks pushed on commit: a write that records events wakes a worker's dispatcher.

A commit pushes one item onto a Redis list (trimmed to one: a burst of commits is
one wake-up); every Celery worker runs a `DispatcherWake` thread that blocks on that
list and, woken, sends the `webhooks.sweep` task (new events become deliveries, and
each subscription with due work gets a sender). The per-second sweep of the beat
schedule stays as the safety net for a lost wake-up; a deployment without beat still
delivers. (The thread is a worker bootstep, `alphaforge.celery.WebhookWake`.) Without
REDIS_URL (the embedded default) `run_schedule` sweeps every second.

Ordering: the thread takes the item before it sends the sweep, and the sweep reads
the log after that, so a commit that lands while a sweep is already reading either is
read by it or pushes a new item: no commit is left for the safety net alone.
"""

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)
WAKE_KEY = "af:webhooks:wake"
FAILURE_BACKOFF = 5.0  # seconds without wake-ups after Redis failed: the sweep covers
_clients: dict[str, "redis.Redis"] = {}
_failed_at = -FAILURE_BACKOFF


def _client(url: str) -> "redis.Redis":
    import redis

    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1
        )
    return _clients[url]


def dispatcher_wake() -> None:
    """After a commit that recorded events: one item on the wake list (at most one
    waits there). Nothing to do without Redis."""
    global _failed_at
    if not settings.REDIS_URL or time.monotonic() - _failed_at < FAILURE_BACKOFF:
        return
    import redis

    try:
        with _client(settings.REDIS_URL).pipeline(transaction=False) as pipe:
            pipe.lpush(WAKE_KEY, 1).ltrim(WAKE_KEY, 0, 0).execute()
    except redis.RedisError as error:
        _failed_at = time.monotonic()
        logger.warning(
            "webhook dispatcher not woken (the sweep will deliver): %s", error
        )


def wake_loop(url: str, stop: threading.Event, sweep: Any) -> None:
    """Block on the wake list until `stop`; send a sweep for each wake-up."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
    while not stop.is_set():
        try:
            woken = client.blpop([WAKE_KEY], timeout=1)
        except redis.RedisError:
            logger.warning("webhook wake-ups unavailable; retrying", exc_info=True)
            stop.wait(1)
            continue
        if woken:
            sweep.apply_async(expires=5)
