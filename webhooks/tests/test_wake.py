"""The wake-up a commit leaves for the webhook dispatcher (webhooks/wake.py)."""

import logging

import pytest
import redis
from django.db import transaction

from events.services import events_record
from webhooks import wake
from webhooks.wake import WAKE_KEY, dispatcher_wake

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(wake, "_failed_at", -wake.FAILURE_BACKOFF)


@pytest.mark.redis
def test_a_burst_of_commits_leaves_one_wake_up(settings, redis_url):
    settings.REDIS_URL = redis_url
    client = redis.Redis.from_url(redis_url)
    client.delete(WAKE_KEY)
    for pair in ("EUR/USD", "GBP/USD", "USD/JPY"):
        with transaction.atomic():
            events_record(events=[("signal.created", {"pair": pair})])
    assert client.llen(WAKE_KEY) == 1
    client.delete(WAKE_KEY)


def test_without_redis_a_commit_leaves_nothing_and_fails_nothing(settings):
    settings.REDIS_URL = ""
    with transaction.atomic():
        (event,) = events_record(events=[("signal.created", {"pair": "EUR/USD"})])
    assert event.id is not None


def test_an_unreachable_redis_costs_one_warning_and_never_the_write(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="webhooks.wake"):
        for pair in ("EUR/USD", "GBP/USD"):
            with transaction.atomic():
                events_record(events=[("signal.created", {"pair": pair})])
    warnings = [r for r in caplog.records if r.name == "webhooks.wake"]
    assert len(warnings) == 1  # the second commit is inside the backoff
    assert warnings[0].exc_info is None
    dispatcher_wake()  # still backing off: no second attempt, no error
    assert len([r for r in caplog.records if r.name == "webhooks.wake"]) == 1
