"""Sending many subscriptions' deliveries at once, against real loopback receivers."""

import threading
from contextlib import ExitStack
from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone

from events.services import events_record
from webhooks import sending, services
from webhooks.models import DeliveryState, WebhookDelivery
from webhooks.tests.receiver import Overlap, receiver

pytestmark = pytest.mark.django_db(transaction=True)
SIGNAL = {"id": 1, "pair": "EUR/USD", "timeframe": "1h", "confidence": 72.5}


@pytest.fixture(autouse=True)
def _webhook_settings(settings):  # type: ignore[no-untyped-def]
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT = 5


def subscribe(user, url: str) -> int:  # type: ignore[no-untyped-def]
    return services.subscription_create(owner_id=user.id, data={"url": url}).id


def record(count: int, commits: int = 1) -> list[int]:
    ids = []
    for _ in range(commits):
        created = events_record(events=[("signal.created", SIGNAL)] * count)
        ids += [event.id for event in created]
    services.deliveries_dispatch()
    return ids


def test_many_subscriptions_are_in_flight_at_once_and_each_gets_its_events_in_order(
    user, settings
):
    settings.WEBHOOK_MAX_PER_USER = 20
    shared = Overlap()
    with ExitStack() as stack:
        hooks = [
            stack.enter_context(receiver([200], delay=0.01, shared=shared))
            for _ in range(6)
        ]
        subscriptions = [subscribe(user, hook.url) for hook in hooks]
        ids = record(10, commits=4)
        sent = sending.deliveries_send_many(subscription_ids=subscriptions)
    assert sent.attempted == 6 * 40 and sorted(sent.held) == sorted(subscriptions)
    for hook in hooks:
        assert hook.ids() == ids  # every event once, in event order
        assert hook.overlap.most == 1  # never two of one subscription at once
    assert shared.most > 1  # but several subscriptions at once
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {
        DeliveryState.DELIVERED
    }


def bounds(before, after, seconds: float):  # type: ignore[no-untyped-def]
    return before + timedelta(seconds=seconds), after + timedelta(seconds=seconds)


def test_retries_back_off_exponentially_with_jitter_on_the_stored_schedule(
    user, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    with receiver([500]) as hook:
        subscription = subscribe(user, hook.url)
        record(3)
        for n in (1, 2, 3):
            WebhookDelivery.objects.update(next_attempt_at=timezone.now())  # due
            before = timezone.now()
            assert sending.deliveries_send(subscription_id=subscription) == 1
            after = timezone.now()
            first, *others = WebhookDelivery.objects.order_by("event_id")
            assert first.attempts == n
            # The formula: BASE × 2^(n−1), ±20 %, from the attempt.
            low, _ = bounds(before, after, 0.8 * 10 * 2 ** (n - 1))
            _, high = bounds(before, after, 1.2 * 10 * 2 ** (n - 1))
            assert low <= first.next_attempt_at <= high
            # The subscription's other deliveries wait for the same retry.
            assert all(d.next_attempt_at >= first.next_attempt_at for d in others)
            assert all(d.attempts == 0 for d in others)
    assert len(hook.requests) == 3


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_from_the_receiver_sets_the_next_attempt(user, settings, form):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 1
    wait = 300
    value = (
        str(wait)
        if form == "seconds"
        else format_datetime(timezone.now() + timedelta(seconds=wait), usegmt=True)
    )
    with receiver([(503, {"Retry-After": value})]) as hook:
        subscription = subscribe(user, hook.url)
        record(1)
        before = timezone.now()
        sending.deliveries_send(subscription_id=subscription)
        after = timezone.now()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.last_status, delivery.state) == (503, DeliveryState.PENDING)
    # An HTTP-date has whole seconds: it may fall up to one second short.
    low, high = bounds(before, after, wait)
    assert low - timedelta(seconds=1) <= delivery.next_attempt_at <= high


@pytest.mark.usefixtures("any_cache")
def test_two_senders_of_one_subscription_at_once_post_each_delivery_once(user):
    with receiver([200], delay=0.005) as hook:
        subscription = subscribe(user, hook.url)
        ids = record(30)
        start = threading.Barrier(2)
        attempted: list[int] = []

        def sender() -> None:  # polls the receiver: SQLite tables lock across threads
            start.wait()
            while len(hook.requests) < len(ids):
                attempted.append(sending.deliveries_send(subscription_id=subscription))

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert hook.ids() == ids  # each once, in order
    assert sum(attempted) == 30
    assert hook.overlap.most == 1


def test_a_delivery_carries_the_request_id_of_the_write_that_caused_it(
    user, staff_client
):
    from signals.tests.factories import signal_payload

    with receiver([200]) as hook:
        subscription = subscribe(user, hook.url)
        created = staff_client.post(
            "/api/signals/", signal_payload(), format="json", HTTP_X_REQUEST_ID="w-42"
        )
        assert created.status_code == 201
        services.deliveries_dispatch()
        sending.deliveries_send_many(subscription_ids=[subscription])
    (delivery,) = WebhookDelivery.objects.filter(subscription_id=subscription)
    assert delivery.request_id == "w-42" and delivery.state == DeliveryState.DELIVERED
    ((headers, _),) = hook.requests
    assert headers["x-request-id"] == "w-42"
