"""Shapes of events: the envelope every reader gets (the log, the WebSocket, the
stream, webhook bodies), and their OpenAPI documentation."""

from typing import Any

from rest_framework import serializers

from core.vocabulary import EventType


def event_dict(row: Any) -> dict[str, Any]:
    """The contract's event object, from an Event or a row of
    EventQuerySet.for_api(); each reader encodes it as its channel needs."""
    return {
        "id": row.id,
        "type": row.type,
        "occurred_at": row.occurred_at,
        "data": row.data,
    }


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
