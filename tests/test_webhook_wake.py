"""Webhooks pushed on commit, on a real Celery worker with no beat: the commit that
records an event wakes the worker's dispatcher, so the delivery arrives with no
sweep sent by anyone (the per-second sweep is only a safety net)."""

import json

import pytest
from django.db import transaction

from events.services import events_record
from tests.test_workers import broker, start_worker, wait_for  # noqa: F401 (fixtures)
from webhooks.services import subscription_create
from webhooks.tests.receiver import receiver

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def test_a_commit_that_records_an_event_is_delivered_without_any_sweep(
    broker,  # noqa: F811
    start_worker,  # noqa: F811
    settings,
    django_user_model,
):
    settings.REDIS_URL = broker  # this process's commits push the wake-up
    start_worker("pusher", WEBHOOK_ALLOW_PRIVATE="true")
    owner = django_user_model.objects.create_user("wake", password="pw")
    with receiver([200]) as hook:
        with transaction.atomic():
            subscription_create(owner_id=owner.id, data={"url": hook.url})
        for pair in ("EUR/USD", "GBP/USD"):
            with transaction.atomic():
                (event,) = events_record(events=[("signal.created", {"pair": pair})])
            wait_for(
                lambda event=event: any(
                    json.loads(body)["id"] == event.id for _, body in hook.requests
                ),
                what=f"event {event.id} to reach the receiver",
                seconds=30,
            )
        ids = [json.loads(body)["id"] for _, body in hook.requests]
        assert ids == sorted(set(ids))  # in order, none twice
        assert len(ids) == 2
