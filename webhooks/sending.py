"""Sending deliveries: the HTTP client side of webhooks, run by the workers.

`deliveries_send` attempts the due deliveries of one subscription, one at a time, so
a slow receiver only ever holds its own subscription's work. Every attempt of a
delivery carries the same webhook-id (the event id) and body; failures are retried
with exponential backoff and jitter (longer if the receiver sent Retry-After) up to
WEBHOOK_MAX_ATTEMPTS; a 410 disables the subscription. Its own module so that web
processes, which only manage subscriptions, never import the HTTP client.
"""

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from .addresses import AddressError, addresses_checked, url_parts
from .models import (
    DeliveryState,
    SubscriptionState,
    WebhookDelivery,
    WebhookSubscription,
)
from .signing import signature


@dataclass(frozen=True)
class Attempt:
    status: int | None
    error: str
    retry_after: float | None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _post(
    client: httpx.Client, subscription: WebhookSubscription, delivery: WebhookDelivery
) -> Attempt:
    """One POST, to an address checked just now (DNS rebinding gets no second look)."""
    try:
        _, host, port = url_parts(subscription.url)
        address = addresses_checked(
            host, port, allow_private=settings.WEBHOOK_ALLOW_PRIVATE
        )[0]
    except AddressError as error:
        return Attempt(None, str(error), None)
    msg_id, stamp, body = (
        str(delivery.event_id),
        int(time.time()),
        delivery.body.encode(),
    )
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature(subscription.secret, msg_id, stamp, body),
    }
    url = httpx.URL(subscription.url)
    pinned = url.copy_with(host=address)  # connect where we checked
    headers["Host"] = url.netloc.decode()
    try:
        response = client.post(
            pinned, content=body, headers=headers, extensions={"sni_hostname": host}
        )
    except httpx.HTTPError as error:
        return Attempt(None, f"{type(error).__name__}: {error}"[:500], None)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Attempt(
        response.status_code, error, _retry_after(response.headers.get("Retry-After"))
    )


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """Retry n waits about BASE × 2^(n−1), ±20 %, or longer if the receiver asked."""
    wait = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1)
    wait *= random.uniform(0.8, 1.2)
    return timedelta(seconds=max(wait, retry_after or 0))


def _record(delivery: WebhookDelivery, attempt: Attempt) -> bool:
    """Store the attempt's result; True when it succeeded."""
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status, delivery.last_error = attempt.status, attempt.error
    subscription = delivery.subscription
    if attempt.status is not None and 200 <= attempt.status < 300:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = (
            DeliveryState.DELIVERED,
            now,
            None,
        )
    elif attempt.status == 410:
        delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
        subscription.state = SubscriptionState.DISABLED
        subscription.save(update_fields=["state"])
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
    else:
        delivery.next_attempt_at = now + retry_delay(
            delivery.attempts, attempt.retry_after
        )
        # The receiver is failing: its other pending deliveries wait as long, so a
        # dead or hanging receiver costs one attempt per backoff step, not one per
        # event (and holds a worker that long at most).
        WebhookDelivery.objects.filter(
            subscription_id=delivery.subscription_id,
            state=DeliveryState.PENDING,
            next_attempt_at__lt=delivery.next_attempt_at,
        ).exclude(pk=delivery.pk).update(next_attempt_at=delivery.next_attempt_at)
    delivery.save(
        update_fields=[
            "attempts",
            "last_status",
            "last_error",
            "state",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    return delivery.state == DeliveryState.DELIVERED


def deliveries_send(*, subscription_id: int, budget_seconds: float = 60) -> int:
    """Attempt this subscription's due deliveries in event order, one at a time;
    returns how many were attempted. Only one sender a subscription at a time (a
    lock in the shared cache), so a slow receiver never holds anyone else's."""
    lock = f"webhook:sending:{subscription_id}"
    hold = int(settings.WEBHOOK_TIMEOUT + budget_seconds + 30)
    if not cache.add(lock, 1, hold):
        return 0
    attempted, started = 0, time.monotonic()
    # One client (and its kept-alive connection) for the run, not one per attempt.
    client = httpx.Client(timeout=settings.WEBHOOK_TIMEOUT, follow_redirects=False)
    try:
        while time.monotonic() - started < budget_seconds:
            delivery = (
                WebhookDelivery.objects.select_related("subscription")
                .filter(
                    subscription_id=subscription_id,
                    state=DeliveryState.PENDING,
                    next_attempt_at__lte=timezone.now(),
                    subscription__state=SubscriptionState.ENABLED,
                )
                .order_by("event_id")
                .first()
            )
            if delivery is None:
                break
            attempted += 1
            attempt = _post(client, delivery.subscription, delivery)
            if not _record(delivery, attempt):
                break  # the rest waits for the retry (see _record)
    finally:
        client.close()
        cache.delete(lock)
    return attempted
