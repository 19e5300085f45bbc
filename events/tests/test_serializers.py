"""The one envelope (events.serializers.event_json), encoded once by the writer
and sent as stored by every reader: the log, the live channels, webhooks."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from events.models import Event
from events.serializers import event_json
from events.services import events_record
from events.tailer import LiveEvent

pytestmark = pytest.mark.django_db
AT = datetime(2026, 1, 5, 14, 0, 3, 120000, tzinfo=UTC)
DATA = {"pair": "EUR/USD", "n": [1, None], "reasoning": "é €", "confidence": 72.5}


def test_the_envelope_is_compact_utf8_json_with_a_z_keys_in_the_contracts_order():
    text = event_json(id=7, type="signal.created", occurred_at=AT, data=DATA)
    assert text == (
        '{"id":7,"type":"signal.created",'
        '"occurred_at":"2026-01-05T14:00:03.120000Z",'
        '"data":{"pair":"EUR/USD","n":[1,null],"reasoning":"é €","confidence":72.5}}'
    )


def test_decimals_are_json_numbers_as_the_api_renders_them():
    text = event_json(
        id=1, type="signal.created", occurred_at=AT, data={"p": Decimal("1.10500")}
    )
    assert json.loads(text)["data"] == {"p": 1.105}


def test_the_writer_stores_the_envelope_with_the_id_the_row_got():
    first, second = events_record(
        events=[("signal.created", DATA), ("signal.updated", {"id": 3})]
    )
    for written in (first, second):
        stored = Event.objects.get(id=written.id)
        assert stored.body == written.body
        envelope = json.loads(stored.body)
        assert list(envelope) == ["id", "type", "occurred_at", "data"]
        assert envelope["id"] == stored.id and envelope["type"] == stored.type
    assert json.loads(first.body)["data"] == DATA
    assert first.data == DATA  # the model's convenience, decoded from body


def test_every_reader_gets_the_stored_text(api_client):
    (event,) = events_record(events=[("signal.created", DATA)])
    (row,) = Event.objects.for_api()
    assert LiveEvent(*row).text == event.body
    response = api_client.get("/api/events/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == (
        b'{"results":[' + event.body.encode() + b'],"after":%d}' % event.id
    )
