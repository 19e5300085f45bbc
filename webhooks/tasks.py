"""Webhook delivery on the workers. The sweep runs every second (beat, or
run_schedule on the embedded default): it turns new events into deliveries and
hands each subscription with due deliveries to a sender task."""

from core.background import shared_task

from .sending import deliveries_send
from .services import deliveries_dispatch, subscriptions_due


@shared_task(name="webhooks.sweep")
def sweep() -> int:
    """Dispatch new events; enqueue a sender for every subscription with due work.
    Safe to run twice: deliveries are unique per (subscription, event), and a
    subscription has at most one sender at a time."""
    deliveries_dispatch()
    due = subscriptions_due()
    for subscription_id in due:
        send.delay(subscription_id)
    return len(due)


@shared_task(name="webhooks.send")
def send(subscription_id: int) -> int:
    """Attempt one subscription's due deliveries (each attempt is recorded before
    the next, so a redelivered task repeats at most the attempt in flight)."""
    return deliveries_send(subscription_id=subscription_id)
