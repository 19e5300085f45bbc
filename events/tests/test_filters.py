"""Which events a reader wants (events.filters): the subscribe message's rules, and
the one match rule, in Python (`EventFilter.matches`) and SQL (`EventFilter.apply`,
EventQuerySet.matching), held equal on random events and filters."""

import json
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.vocabulary import EventType, Timeframe
from events.filters import (
    EventFilter,
    FilterError,
    Subscription,
    subscription_from_message,
)
from events.models import Event
from events.tailer import LiveEvent

TYPES = st.sampled_from(EventType.values)
PAIRS = st.sampled_from(["EUR/USD", "GBP/USD", "USD/JPY", ""])
TIMEFRAMES = st.sampled_from([*Timeframe.values, ""])
# As stored (two places); None when the payload had none.
CONFIDENCES = st.none() | st.decimals(0, 100, places=2)


def test_a_subscribe_message_gives_its_filter_after_and_batch():
    message = {
        "action": "subscribe",
        "types": ["signal.created"],
        "pairs": ["EUR/USD", "GBP/USD"],
        "timeframes": ["1h"],
        "min_confidence": 60,
        "after": 12,
        "batch": True,
    }
    assert subscription_from_message(message) == Subscription(
        filter=EventFilter(
            types=frozenset({"signal.created"}),
            pairs=frozenset({"EUR/USD", "GBP/USD"}),
            timeframes=frozenset({"1h"}),
            min_confidence=Decimal(60),
        ),
        after=12,
        batch=True,
    )


def test_every_key_but_action_is_optional_and_batch_is_off_by_default():
    assert subscription_from_message({"action": "subscribe"}) == Subscription(
        filter=EventFilter(), after=None, batch=False
    )


@pytest.mark.parametrize(
    ("message", "name"),
    [
        ([1], "action"),
        ({"action": "listen"}, "action"),
        ({"action": "subscribe", "types": ["signal.deleted"]}, "types"),
        ({"action": "subscribe", "types": "signal.created"}, "types"),
        ({"action": "subscribe", "pairs": ["eurusd"]}, "pairs"),
        ({"action": "subscribe", "pairs": [""]}, "pairs"),
        ({"action": "subscribe", "timeframes": ["9x"]}, "timeframes"),
        ({"action": "subscribe", "after": -1}, "after"),
        ({"action": "subscribe", "after": "5"}, "after"),
        ({"action": "subscribe", "after": True}, "after"),
        ({"action": "subscribe", "min_confidence": "high"}, "min_confidence"),
        ({"action": "subscribe", "min_confidence": 101}, "min_confidence"),
        ({"action": "subscribe", "min_confidence": True}, "min_confidence"),
        ({"action": "subscribe", "batch": "yes"}, "batch"),
        ({"action": "subscribe", "batch": 1}, "batch"),
        ({"action": "subscribe", "batch": None}, "batch"),
        ({"action": "subscribe", "colour": "red"}, "colour"),
    ],
)
def test_a_malformed_subscribe_message_is_an_error_naming_the_key(message, name):
    with pytest.raises(FilterError) as raised:
        subscription_from_message(json.loads(json.dumps(message)))
    assert list(raised.value.errors) == [name]


class Row:
    def __init__(self, type_: str, pair: str, timeframe: str, confidence) -> None:  # type: ignore[no-untyped-def]
        self.type, self.pair, self.timeframe = type_, pair, timeframe
        self.confidence = confidence


@pytest.mark.parametrize(
    ("wanted", "accepted"),
    [
        (EventFilter(), True),
        (EventFilter(types=frozenset({"signal.created"})), True),
        (EventFilter(types=frozenset({"signal.resolved"})), False),
        (EventFilter(pairs=frozenset({"EUR/USD", "GBP/USD"})), True),
        (EventFilter(pairs=frozenset({"GBP/USD"})), False),
        (EventFilter(timeframes=frozenset({"4h"})), False),
        (EventFilter(min_confidence=Decimal("65.50")), True),
        (EventFilter(min_confidence=Decimal("65.51")), False),
    ],
)
def test_an_event_is_accepted_when_every_given_condition_holds(wanted, accepted):
    event = Row("signal.created", "EUR/USD", "1h", Decimal("65.50"))
    assert wanted.matches(event) is accepted


def test_an_event_without_confidence_fails_any_minimum_even_zero():
    event = Row("signal.created", "EUR/USD", "1h", None)
    assert EventFilter().matches(event)
    assert not EventFilter(min_confidence=Decimal(0)).matches(event)


filters_strategy = st.builds(
    EventFilter,
    types=st.frozensets(TYPES),
    pairs=st.frozensets(PAIRS.filter(bool)),
    timeframes=st.frozensets(st.sampled_from(Timeframe.values)),
    # Filters take any number from 0 to 100, not only what a column stores.
    min_confidence=st.none() | st.decimals(0, 100, places=3),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    events=st.lists(
        st.tuples(TYPES, PAIRS, TIMEFRAMES, CONFIDENCES), min_size=1, max_size=12
    ),
    wanted=filters_strategy,
)
def test_sql_selects_exactly_the_events_the_python_rule_accepts(events, wanted):
    Event.objects.all().delete()
    now = timezone.now()
    Event.objects.bulk_create(
        Event(
            type=kind,
            occurred_at=now,
            pair=pair,
            timeframe=timeframe,
            confidence=confidence,
            body="{}",
        )
        for kind, pair, timeframe, confidence in events
    )
    rows = list(Event.objects.order_by("id").for_api())
    in_python = [row[0] for row in rows if wanted.matches(LiveEvent(*row))]
    in_sql = list(
        wanted.apply(Event.objects.order_by("id")).values_list("id", flat=True)
    )
    assert in_sql == in_python
