from typing import Any

import orjson
from django.db import models

from core.vocabulary import EventType

from .querysets import EventQuerySet


class Event(models.Model):
    """One entry of the durable log. Ids are handed out in commit order
    (events.services.events_record), so readers can tail `id > after`."""

    type = models.CharField(max_length=32, choices=EventType.choices)
    occurred_at = models.DateTimeField()
    # Copied from the payload so the log can be filtered in SQL.
    pair = models.CharField(max_length=25, blank=True, default="")
    timeframe = models.CharField(max_length=3, blank=True, default="")
    confidence = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    # The contract's event object (id, type, occurred_at, data) as JSON, encoded
    # once when the event is written (events.serializers.event_json); the log,
    # the WebSocket, the stream, replay and webhook bodies send it as it is.
    body = models.TextField()
    # The request that caused it (X-Request-ID) and its trace (a W3C traceparent,
    # empty unless tracing is on): webhook deliveries of the event carry both on.
    request_id = models.CharField(max_length=128, blank=True, default="")
    trace_parent = models.CharField(max_length=128, blank=True, default="")

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["occurred_at"], name="idx_event_occurred_at")]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"

    @property
    def data(self) -> dict[str, Any]:
        """The event's `data` (the signal after the change), decoded from body."""
        return orjson.loads(self.body)["data"]


class Prune(models.Model):
    """One run of events_prune: every event with id <= pruned_through is gone."""

    pruned_through = models.BigIntegerField()
    pruned_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"pruned through {self.pruned_through}"
