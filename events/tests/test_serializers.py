"""The one envelope (events.serializers.event_dict) and how each reader encodes it:
the log through the API's renderer, the live channels through the tailer."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from events.models import Event
from events.serializers import event_dict
from events.tailer import live_event

pytestmark = pytest.mark.django_db
AT = datetime(2026, 1, 5, 14, 0, 3, 120000, tzinfo=UTC)
# Keys in the order PostgreSQL's jsonb keeps them (shorter first), so both
# databases give the stored data back in this order.
DATA = {"n": [1, None], "pair": "EUR/USD", "reasoning": "é €", "confidence": 72.5}


@pytest.fixture
def event() -> Event:
    return Event.objects.create(
        type="signal.created",
        occurred_at=AT,
        pair="EUR/USD",
        timeframe="1h",
        confidence=Decimal("72.5"),
        data=DATA,
    )


def test_the_envelope_is_id_type_occurred_at_and_data_in_that_order(event):
    (row,) = Event.objects.for_api()
    for source in (event, row):
        envelope = event_dict(source)
        assert list(envelope) == ["id", "type", "occurred_at", "data"]
        assert envelope == {
            "id": event.id,
            "type": "signal.created",
            "occurred_at": AT,
            "data": DATA,
        }


def test_live_channels_send_the_envelope_as_compact_utf8_json_with_a_z(event):
    (row,) = Event.objects.for_api()
    assert live_event(row).text == (
        f'{{"id":{event.id},"type":"signal.created",'
        '"occurred_at":"2026-01-05T14:00:03.120000Z",'
        '"data":{"n":[1,null],"pair":"EUR/USD","reasoning":"é €","confidence":72.5}}'
    )


def test_the_log_renders_the_same_envelope(event, api_client):
    (result,) = api_client.get("/api/events/").json()["results"]
    (row,) = Event.objects.for_api()
    assert result == json.loads(live_event(row).text)
