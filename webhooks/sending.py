"""Sending deliveries, run by the workers: many subscriptions at once, each in order.

`deliveries_send_many` takes the one-sender lock of each subscription it is given
(a key in the shared cache), then, on the process's sending loop, keeps every
locked subscription's due deliveries in flight at once, at most one per
subscription (so each receiver sees its events in order) and at most
WEBHOOK_CONCURRENCY in all, over kept-alive connections per receiver host
(`webhooks.posting`). The database is
read and written in batches off the event loop: due deliveries are claimed for all
idle subscriptions in one query, and the results of every attempt finished since the
last write are stored in one statement, before that subscription is claimed again.

Every attempt of a delivery carries the same webhook-id (the event id) and body, so
an attempt whose result was never stored (a killed worker) is repeated with the same
id: delivery is at least once. Failures are retried with exponential backoff and
jitter (longer if the receiver sent Retry-After) up to WEBHOOK_MAX_ATTEMPTS, and the
failing subscription's other deliveries wait as long; a 410 disables the
subscription. A slow or hanging receiver holds only its own subscription's slot, for
at most WEBHOOK_TIMEOUT. Its own module so that web processes never import httpx.
"""

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections
from django.utils import timezone

from .posting import Attempt, Claimed, Clients, attempt_post, loop_run
from .storage import deliveries_claim, results_write

LOCK_MARGIN = 10  # seconds a lock outlives the longest attempt; renewed meanwhile
RENEW_EVERY = 2.0
TICK = 0.05  # results are stored at least this often while attempts are in flight


@dataclass(frozen=True)
class Sent:
    attempted: int
    held: list[int]  # the subscriptions this run had the lock of


def _lock(subscription_id: int) -> str:
    return f"webhook:sending:{subscription_id}"


def _concurrency() -> int:
    return settings.WEBHOOK_CONCURRENCY


def _lock_seconds() -> int:
    return int(settings.WEBHOOK_TIMEOUT + LOCK_MARGIN)


class _Run:
    """One sending run's state, on the event loop."""

    def __init__(
        self, held: list[int], budget_seconds: float, clients: Clients
    ) -> None:
        self.held = held
        self.running: dict[asyncio.Task[None], int] = {}
        self.results: list[tuple[Claimed, Attempt, datetime]] = []
        self.deadline = time.monotonic() + budget_seconds
        self.attempted = 0
        self.allow_private = settings.WEBHOOK_ALLOW_PRIVATE
        self.timeout = float(settings.WEBHOOK_TIMEOUT)
        self.gate = asyncio.Semaphore(_concurrency())
        self.clients = clients

    def idle(self) -> list[int]:
        """Held subscriptions with nothing in flight (and their results stored),
        while the run has time: the ones to claim deliveries for."""
        if time.monotonic() > self.deadline:
            return []
        busy = set(self.running.values())
        return [s for s in self.held if s not in busy]

    async def in_order(self, batch: list[Claimed]) -> None:
        """Post one subscription's claimed deliveries one after another, up to the
        first failure (the rest wait for its retry) or the end of the run's time."""
        for delivery in batch:
            if time.monotonic() > self.deadline:
                return
            async with self.gate:
                attempt = await attempt_post(
                    self.clients,
                    delivery,
                    timeout=self.timeout,
                    allow_private=self.allow_private,
                )
            self.attempted += 1
            self.results.append((delivery, attempt, timezone.now()))
            if not attempt.ok:
                return

    def start(self, claimed: list[Claimed]) -> None:
        by_subscription: dict[int, list[Claimed]] = {}
        for delivery in claimed:
            by_subscription.setdefault(delivery.subscription_id, []).append(delivery)
        for subscription_id, batch in by_subscription.items():
            task = asyncio.create_task(self.in_order(batch))
            self.running[task] = subscription_id

    async def flush(self, db: Callable[..., Coroutine[Any, Any, Any]]) -> None:
        batch, self.results = self.results, []
        if batch:
            await db(results_write, batch)

    def finished(self, done: Iterable[asyncio.Task[None]]) -> None:
        for task in done:
            del self.running[task]
            task.result()  # an unexpected error ends the run (nothing is lost)


async def _db(function: Callable[..., Any], *args: Any) -> Any:
    """Database work runs on one thread of its own, never on the event loop."""
    return await sync_to_async(function, thread_sensitive=True)(*args)


def _locks_renew(keys: list[str]) -> None:
    for key in keys:
        cache.touch(key, _lock_seconds())


async def _send(held: list[int], budget_seconds: float, clients: Clients) -> int:
    run = _Run(held, budget_seconds, clients)
    keys, renewed = [_lock(s) for s in held], time.monotonic()
    await _db(close_old_connections)
    try:
        while True:
            # Subscriptions stay held while the run lasts, and are claimed again
            # each round: work dispatched meanwhile is picked up within a tick.
            if idle := run.idle():
                run.start(await _db(deliveries_claim, idle))
            if not run.running:
                break
            done, _ = await asyncio.wait(
                run.running, timeout=TICK, return_when=asyncio.FIRST_COMPLETED
            )
            await run.flush(_db)  # before any of these subscriptions is claimed again
            run.finished(done)
            if time.monotonic() - renewed > RENEW_EVERY:
                await _db(_locks_renew, keys)
                renewed = time.monotonic()
    finally:
        for task in run.running:
            task.cancel()
        await asyncio.gather(*run.running, return_exceptions=True)
        await run.flush(_db)
        await _db(close_old_connections)  # back to the pool, as after a request
    return run.attempted


def deliveries_send_many(
    *, subscription_ids: Iterable[int], budget_seconds: float = 30
) -> Sent:
    """Attempt the due deliveries of these subscriptions, concurrently across them
    and in event order within each; a subscription another sender holds is skipped
    (one sender a subscription at a time). Stops claiming after `budget_seconds`."""
    seconds = _lock_seconds()
    held = [
        s for s in dict.fromkeys(subscription_ids) if cache.add(_lock(s), 1, seconds)
    ]
    if not held:
        return Sent(0, [])
    try:
        attempted = loop_run(
            lambda clients: _send(held, budget_seconds, clients),
            connections=_concurrency(),
        )
    finally:
        cache.delete_many([_lock(s) for s in held])
    return Sent(attempted, held)


def deliveries_send(*, subscription_id: int, budget_seconds: float = 30) -> int:
    """Attempt one subscription's due deliveries in event order; returns how many
    were attempted (0 when another sender holds it)."""
    return deliveries_send_many(
        subscription_ids=[subscription_id], budget_seconds=budget_seconds
    ).attempted
