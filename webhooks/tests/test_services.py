"""Delivery against a real receiver on loopback (WEBHOOK_ALLOW_PRIVATE for it)."""

import json
import logging
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from events.filters import EventFilter
from events.models import Event
from events.services import events_record
from webhooks import sending, services, storage
from webhooks.models import DeliveryState, SubscriptionState, WebhookDelivery
from webhooks.tests.receiver import receiver

pytestmark = pytest.mark.django_db(transaction=True)
SIGNAL = {"id": 1, "pair": "EUR/USD", "timeframe": "1h", "confidence": 72.5}


@pytest.fixture(autouse=True)
def _webhook_settings(settings):  # type: ignore[no-untyped-def]
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0  # every retry due at once
    settings.WEBHOOK_TIMEOUT = 2


def send_until_idle(subscription_id: int) -> int:
    """What the sweep does every second, with every retry due at once."""
    attempted = 0
    while sent := sending.deliveries_send(subscription_id=subscription_id):
        attempted += sent
    return attempted


def subscribe(user, url: str, **data):  # type: ignore[no-untyped-def]
    return services.subscription_create(owner_id=user.id, data={"url": url, **data})


def test_a_receiver_failing_twice_gets_three_attempts_with_one_id_and_valid_signatures(
    user, caplog
):
    caplog.set_level(logging.DEBUG)
    with receiver([500, 503, 200]) as hook:
        subscription = subscribe(user, hook.url)
        (event,) = events_record(events=[("signal.created", SIGNAL)])
        assert services.deliveries_dispatch() == 1
        assert send_until_idle(subscription.id) == 3
    assert len(hook.requests) == 3
    assert {headers["webhook-id"] for headers, _ in hook.requests} == {str(event.id)}
    for headers, body in hook.requests:
        payload = Webhook(subscription.secret).verify(body, headers)
        assert payload["id"] == event.id and payload["data"] == SIGNAL
        assert headers["content-type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == (
        DeliveryState.DELIVERED,
        3,
        200,
    )
    assert subscription.secret not in caplog.text


def test_a_410_disables_the_subscription(user):
    with receiver([410]) as hook:
        subscription = subscribe(user, hook.url)
        events_record(events=[("signal.created", SIGNAL)])
        services.deliveries_dispatch()
        sending.deliveries_send(subscription_id=subscription.id)
    subscription.refresh_from_db()
    assert subscription.state == SubscriptionState.DISABLED
    assert WebhookDelivery.objects.get().state == DeliveryState.FAILED


def test_after_the_last_attempt_the_delivery_fails_and_can_be_retried(user, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with receiver([500, 500, 200]) as hook:
        subscription = subscribe(user, hook.url)
        events_record(events=[("signal.created", SIGNAL)])
        services.deliveries_dispatch()
        send_until_idle(subscription.id)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 2)
        services.delivery_retry(delivery=delivery)
        send_until_idle(subscription.id)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and len(hook.requests) == 3


def test_backoff_doubles_with_jitter_and_honours_retry_after(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 5
    for attempts, expected in [(1, 5), (2, 10), (3, 20), (5, 80)]:
        wait = storage.retry_delay(attempts, None).total_seconds()
        assert 0.8 * expected <= wait <= 1.2 * expected
    assert storage.retry_delay(1, 120).total_seconds() == 120


def test_only_matching_events_are_delivered(user):
    with receiver([200]) as hook:
        subscription = subscribe(
            user,
            hook.url,
            types=["signal.resolved"],
            pairs=["EUR/USD"],
            min_confidence=70,
        )
        events_record(
            events=[
                ("signal.created", SIGNAL),
                ("signal.resolved", {**SIGNAL, "pair": "GBP/USD"}),
                ("signal.resolved", {**SIGNAL, "confidence": 60}),
                ("signal.resolved", SIGNAL),
            ]
        )
        services.deliveries_dispatch()
        sending.deliveries_send(subscription_id=subscription.id)
    assert len(hook.requests) == 1
    assert json.loads(hook.requests[0][1])["data"] == SIGNAL


def test_dispatch_twice_makes_each_delivery_once(user):
    with receiver([200]) as hook:
        subscribe(user, hook.url)
        events_record(events=[("signal.created", SIGNAL)])
        services.deliveries_dispatch()
        WebhookDelivery.objects.all().delete()
        from webhooks.models import DispatchCursor

        DispatchCursor.objects.update(last_event_id=0)  # a lost cursor: replay
        services.deliveries_dispatch()
        services.deliveries_dispatch()
    assert WebhookDelivery.objects.count() == 1


def test_a_url_that_turned_private_is_not_called_at_delivery(user, settings):
    with receiver([200]) as hook:
        subscription = subscribe(user, hook.url)
        settings.WEBHOOK_ALLOW_PRIVATE = False  # its name now resolves to loopback
        events_record(events=[("signal.created", SIGNAL)])
        services.deliveries_dispatch()
        sending.deliveries_send(subscription_id=subscription.id)
    assert hook.requests == []
    delivery = WebhookDelivery.objects.get()
    assert "public" in delivery.last_error and delivery.last_status is None


def test_a_slow_receiver_times_out_and_is_retried_later(user, settings):
    settings.WEBHOOK_TIMEOUT = 0.5
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    with receiver(["hang"], hang_seconds=2) as hook:
        subscription = subscribe(user, hook.url)
        events_record(events=[("signal.created", SIGNAL)])
        services.deliveries_dispatch()
        assert sending.deliveries_send(subscription_id=subscription.id) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert "Timeout" in delivery.last_error and delivery.next_attempt_at is not None


def test_a_failing_receiver_holds_back_its_other_deliveries_until_the_retry(
    user, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    with receiver([500]) as hook:
        subscription = subscribe(user, hook.url)
        events_record(events=[("signal.created", SIGNAL)] * 5)
        services.deliveries_dispatch()
        # One attempt, not five: the other four wait for the same retry time.
        assert sending.deliveries_send(subscription_id=subscription.id) == 1
    assert len(hook.requests) == 1
    waiting = WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
    first = waiting.order_by("event_id").first()
    assert waiting.count() == 5
    assert all(d.next_attempt_at >= first.next_attempt_at for d in waiting)
    assert services.subscriptions_due() == []


def test_the_body_is_the_events_stored_json_as_it_is(user):
    subscribe(user, "https://example.com/hook")
    data = {"note": "é", "id": 1, "pair": "EUR/USD", "timeframe": "1h"}
    (event,) = events_record(events=[("signal.created", data)])
    services.deliveries_dispatch()
    delivery = WebhookDelivery.objects.get(event_id=event.id)
    assert delivery.body == Event.objects.get(id=event.id).body
    assert delivery.body.startswith(f'{{"id":{event.id},"type":"signal.created",')
    assert delivery.body.endswith(
        '"data":{"note":"é","id":1,"pair":"EUR/USD","timeframe":"1h"}}'
    )


def test_dispatch_uses_the_event_filter_and_skips_events_older_than_the_subscription(
    user,
):
    subscription = subscribe(user, "https://example.com/hook", pairs=["EUR/USD"])
    assert services.subscription_filter(subscription) == EventFilter(
        pairs=frozenset({"EUR/USD"})
    )
    older, newer = events_record(events=[("signal.created", SIGNAL)] * 2)
    Event.objects.filter(id=older.id).update(
        occurred_at=subscription.created_at - timedelta(seconds=1)
    )
    services.deliveries_dispatch()
    assert list(WebhookDelivery.objects.values_list("event_id", flat=True)) == [
        newer.id
    ]


def test_only_a_failed_delivery_is_retried(user):
    subscription = subscribe(user, "https://example.com/hook")
    events_record(events=[("signal.created", SIGNAL)])
    services.deliveries_dispatch()
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    with pytest.raises(services.DeliveryNotFailed):
        services.delivery_retry(delivery=delivery)  # pending
    WebhookDelivery.objects.update(state=DeliveryState.DELIVERED)
    with pytest.raises(services.DeliveryNotFailed):
        services.delivery_retry(delivery=delivery)
    WebhookDelivery.objects.update(state=DeliveryState.FAILED, attempts=8)
    retried = services.delivery_retry(delivery=delivery)
    assert (retried.state, retried.attempts) == (DeliveryState.PENDING, 0)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)
