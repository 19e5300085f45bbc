"""Shapes of events: the envelope every reader gets (the log, the WebSocket, the
stream, webhook bodies), encoded once, and their OpenAPI documentation."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from rest_framework import serializers

from core.vocabulary import EventType


def _number(value: Any) -> float:
    """Decimals as JSON numbers, as the API renders them (DRF's encoder)."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def event_json(*, id: int, type: str, occurred_at: datetime, data: Any) -> str:
    """The contract's event object as compact UTF-8 JSON, keys in the contract's
    order, datetimes in UTC with a `Z` (as DRF writes them). Called once per
    event, by the writer; every reader sends the stored text."""
    envelope = {"id": id, "type": type, "occurred_at": occurred_at, "data": data}
    return orjson.dumps(envelope, default=_number, option=orjson.OPT_UTC_Z).decode()


def events_page_json(bodies: list[str], after: int) -> bytes:
    """A page of the log, `{"results": [...], "after": n}`, from stored bodies
    spliced as they are (nothing decoded)."""
    return f'{{"results":[{",".join(bodies)}],"after":{after:d}}}'.encode()


class EventSerializer(serializers.Serializer):
    """Documents one event; `data` is the signal in its detail form."""

    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=EventType.choices)
    occurred_at = serializers.DateTimeField()
    data = serializers.DictField(help_text="The signal after the change, detail form.")


class EventPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    after = serializers.IntegerField(help_text="Pass it as `after` to read on.")


class EventGoneSerializer(serializers.Serializer):
    detail = serializers.CharField()
    oldest_id = serializers.IntegerField()
