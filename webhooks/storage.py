"""The delivery rows a sender reads and writes, in batches (`webhooks.sending`).

`deliveries_claim` reads the due deliveries of many subscriptions in one query, the
first few of each in event order; `results_write` stores a batch of attempts' results
in one transaction: one UPDATE for the deliveries, one for the failing subscriptions'
other deliveries (they wait for the same retry), one for the subscriptions a 410
disabled.
"""

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When, Window
from django.db.models.functions import Greatest, RowNumber
from django.utils import timezone

from .models import (
    DeliveryState,
    SubscriptionState,
    WebhookDelivery,
    WebhookSubscription,
)
from .posting import Attempt, Claimed

CLAIM_PER_SUBSCRIPTION = 100
RESULT_FIELDS = [
    "attempts",
    "last_status",
    "last_error",
    "state",
    "delivered_at",
    "next_attempt_at",
]


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Retry n waits about BASE × 2^(n−1), ±20 %, or longer if the receiver asked."""
    wait = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    wait *= random.uniform(0.8, 1.2)
    return timedelta(seconds=max(wait, retry_after or 0))


def deliveries_claim(
    subscription_ids: list[int], per_subscription: int = CLAIM_PER_SUBSCRIPTION
) -> list[Claimed]:
    """The first `per_subscription` due deliveries of each enabled subscription, in
    (subscription, event) order. The caller holds these subscriptions' locks."""
    rows = (
        WebhookDelivery.objects.filter(
            subscription_id__in=subscription_ids,
            state=DeliveryState.PENDING,
            next_attempt_at__lte=timezone.now(),
            subscription__state=SubscriptionState.ENABLED,
        )
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("subscription_id")],
                order_by=F("event_id").asc(),
            )
        )
        .filter(rank__lte=per_subscription)
        .order_by("subscription_id", "event_id")
        .values_list(
            "id",
            "subscription_id",
            "event_id",
            "body",
            "attempts",
            "subscription__url",
            "subscription__secret",
            "request_id",
            "trace_parent",
        )
    )
    return [Claimed(*row) for row in rows]


def _outcome(
    delivery: Claimed, attempt: Attempt, at: datetime
) -> tuple[WebhookDelivery, datetime | None]:
    """The delivery's row after this attempt, and when its subscription's other
    deliveries may be tried next (None unless the attempt is to be retried)."""
    row = WebhookDelivery(
        id=delivery.id,
        attempts=delivery.attempts + 1,
        last_status=attempt.status,
        last_error=attempt.error,
        state=DeliveryState.PENDING,
        delivered_at=None,
        next_attempt_at=None,
    )
    if attempt.ok:
        row.state, row.delivered_at = DeliveryState.DELIVERED, at
    elif attempt.status == 410 or row.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        row.state = DeliveryState.FAILED
    else:
        row.next_attempt_at = at + retry_delay(row.attempts, attempt.retry_after)
        return row, row.next_attempt_at
    return row, None


def results_write(results: list[tuple[Claimed, Attempt, datetime]]) -> None:
    """Store a batch of attempts' results (each delivery at most once a batch)."""
    rows, waits, gone = [], {}, set()
    for delivery, attempt, at in results:
        row, retry_at = _outcome(delivery, attempt, at)
        rows.append(row)
        if retry_at is not None:
            waits[delivery.subscription_id] = retry_at
        if attempt.status == 410:
            gone.add(delivery.subscription_id)
    with transaction.atomic():
        WebhookDelivery.objects.bulk_update(rows, RESULT_FIELDS)
        if waits:
            # A failing receiver's other pending deliveries wait as long, so a dead
            # or hanging receiver costs one attempt per backoff step, not per event.
            retry_at = Case(
                *(When(subscription_id=s, then=Value(at)) for s, at in waits.items())
            )
            WebhookDelivery.objects.filter(
                subscription_id__in=waits, state=DeliveryState.PENDING
            ).update(next_attempt_at=Greatest(F("next_attempt_at"), retry_at))
        if gone:
            WebhookSubscription.objects.filter(id__in=gone).update(
                state=SubscriptionState.DISABLED
            )
