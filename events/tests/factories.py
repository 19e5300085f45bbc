from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from events.models import Event
from events.serializers import event_json


def event_create(
    kind: str = "signal.created",
    *,
    pair: str = "EUR/USD",
    timeframe: str = "1h",
    confidence: str = "65",
    occurred_at: datetime | None = None,
) -> Event:
    """An event as signals would log it (only the fields readers filter on)."""
    event = Event.objects.create(
        type=kind,
        occurred_at=occurred_at or timezone.now(),
        pair=pair,
        timeframe=timeframe,
        confidence=Decimal(confidence),
    )
    data = {"pair": pair, "timeframe": timeframe, "confidence": float(confidence)}
    event.body = event_json(
        id=event.id, type=kind, occurred_at=event.occurred_at, data=data
    )
    event.save(update_fields=["body"])
    return event
