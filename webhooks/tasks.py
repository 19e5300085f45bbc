"""Webhook delivery on the workers. A sweep runs on every commit that records events
(webhooks.wake) and every second (beat, or run_schedule on the embedded default): it
turns new events into deliveries and sends them, many subscriptions' at once."""

from django.conf import settings

from core.background import shared_task

from .sending import deliveries_send, deliveries_send_many
from .services import deliveries_dispatch, subscriptions_due


@shared_task(name="webhooks.sweep")
def sweep() -> int:
    """Dispatch new events, then send: the first WEBHOOK_CONCURRENCY subscriptions
    with due work here (no second trip through the broker), the others in sender
    tasks of that many each. Safe to run twice: deliveries are unique per
    (subscription, event), and a subscription has at most one sender at a time."""
    deliveries_dispatch()
    due = subscriptions_due()
    size = getattr(settings, "WEBHOOK_CONCURRENCY", 100)
    for start in range(size, len(due), size):
        send_many.delay(due[start : start + size])
    if due:
        _send(due[:size])
    return len(due)


def _send(subscription_ids: list[int]) -> int:
    """Send; work that arrived while this run held the subscriptions, which another
    sender could not take, gets a sender of its own."""
    sent = deliveries_send_many(subscription_ids=subscription_ids)
    arrived = subscriptions_due(among=sent.held, new_only=True)
    if arrived:
        send_many.delay(arrived)
    return sent.attempted


@shared_task(name="webhooks.send_many")
def send_many(subscription_ids: list[int]) -> int:
    """Attempt these subscriptions' due deliveries concurrently (each attempt's result
    is stored within moments, so a redelivered task repeats at most the attempts in
    flight, with the same webhook-id)."""
    return _send(subscription_ids)


@shared_task(name="webhooks.send")
def send(subscription_id: int) -> int:
    """One subscription's due deliveries (messages queued by earlier versions)."""
    return deliveries_send(subscription_id=subscription_id)
