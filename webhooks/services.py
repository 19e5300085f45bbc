"""Webhook subscriptions and their deliveries.

The event log drives delivery: `deliveries_dispatch` turns the events past a cursor
into one delivery per matching subscription (a unique key makes it idempotent), and
`webhooks.sending.deliveries_send_many` attempts the due deliveries of many
subscriptions at once (the HTTP client lives there, so the web process never loads
it). Delivery is at least once.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from events.filters import EventFilter
from events.models import Event

from .addresses import AddressError, addresses_checked, url_parts
from .models import (
    DeliveryState,
    DispatchCursor,
    SubscriptionState,
    WebhookDelivery,
    WebhookSubscription,
)
from .signing import secret_new

logger = logging.getLogger(__name__)
DISPATCH_BATCH = 1000


class SubscriptionLimit(Exception):
    """The owner has WEBHOOK_MAX_PER_USER subscriptions already."""


class DeliveryNotFailed(Exception):
    """Only a failed delivery is attempted again."""


def url_error(url: str) -> str | None:
    """Why `url` may not receive webhooks, or None when it may."""
    try:
        _, host, port = url_parts(url)
        addresses_checked(host, port, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    except AddressError as error:
        return str(error)
    return None


def subscription_create(*, owner_id: int, data: dict[str, Any]) -> WebhookSubscription:
    """A new subscription with a fresh secret, within the owner's limit."""
    with transaction.atomic():
        # Counting under a lock of the owner's rows: two requests cannot both pass.
        owned = WebhookSubscription.objects.select_for_update().filter(
            owner_id=owner_id
        )
        if len(owned) >= settings.WEBHOOK_MAX_PER_USER:
            raise SubscriptionLimit
        return WebhookSubscription.objects.create(
            owner_id=owner_id, secret=secret_new(), **data
        )


def subscription_filter(subscription: WebhookSubscription) -> EventFilter:
    """The events a subscription wants, by the rule every live reader uses."""
    return EventFilter(
        types=frozenset(subscription.types),
        pairs=frozenset(subscription.pairs),
        timeframes=frozenset(subscription.timeframes),
        min_confidence=subscription.min_confidence,
    )


def deliveries_dispatch() -> int:
    """Make the deliveries of the events past the cursor; returns how many."""
    with transaction.atomic():
        DispatchCursor.objects.get_or_create(pk=1)
        cursor = DispatchCursor.objects.select_for_update().get(pk=1)
        events = list(Event.objects.after(cursor.last_event_id)[:DISPATCH_BATCH])
        if not events:
            return 0
        wanted = [
            (subscription, subscription_filter(subscription))
            for subscription in WebhookSubscription.objects.filter(
                state=SubscriptionState.ENABLED
            )
        ]
        now = timezone.now()
        rows = [
            WebhookDelivery(
                subscription=subscription,
                event_id=event.id,
                event_type=event.type,
                body=event.body,  # the event's JSON as stored
                request_id=event.request_id,
                trace_parent=event.trace_parent,
                next_attempt_at=now,
            )
            for event in events
            for subscription, rule in wanted
            # Nothing from before the subscription existed.
            if event.occurred_at >= subscription.created_at and rule.matches(event)
        ]
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        cursor.last_event_id = events[-1].id
        cursor.save(update_fields=["last_event_id"])
    return len(rows)


def subscriptions_due(
    *, among: list[int] | None = None, new_only: bool = False
) -> list[int]:
    """Subscriptions with a pending delivery that is due now (only of `among`, and
    only never-attempted deliveries when `new_only`)."""
    due = WebhookDelivery.objects.filter(
        state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now()
    )
    if among is not None:
        due = due.filter(subscription_id__in=among)
    if new_only:
        due = due.filter(attempts=0)
    return list(
        due.order_by("subscription_id")
        .values_list("subscription_id", flat=True)
        .distinct()
    )


def delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A failed delivery is attempted again (its attempts start over); any other
    raises DeliveryNotFailed. The state is checked in the update itself, so two
    retries at once reset it once and a delivery the sweep changed meanwhile is
    left alone."""
    changes = {
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "next_attempt_at": timezone.now(),
    }
    updated = WebhookDelivery.objects.filter(
        pk=delivery.pk, state=DeliveryState.FAILED
    ).update(**changes)
    if not updated:
        raise DeliveryNotFailed
    for name, value in changes.items():
        setattr(delivery, name, value)
    return delivery
