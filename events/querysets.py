from typing import Any

from django.db import models

# What a reader gets of each event, in this order (events.tailer.LiveEvent's):
# the filter columns and the stored JSON.
ROW_FIELDS = ("id", "type", "pair", "timeframe", "confidence", "body")


class EventQuerySet(models.QuerySet):
    def after(self, after: int) -> "EventQuerySet":
        return self.filter(id__gt=after).order_by("id")

    def matching(
        self,
        *,
        types: list[str] | None = None,
        pairs: list[str] | None = None,
        timeframes: list[str] | None = None,
        min_confidence: Any = None,
    ) -> "EventQuerySet":
        queryset = self
        if types:
            queryset = queryset.filter(type__in=types)
        if pairs:
            queryset = queryset.filter(pair__in=pairs)
        if timeframes:
            queryset = queryset.filter(timeframe__in=timeframes)
        if min_confidence is not None:
            queryset = queryset.filter(confidence__gte=min_confidence)
        return queryset

    def for_api(self) -> "EventQuerySet":
        """Rows as the readers need them: the filter columns and the event's
        stored JSON, as plain tuples in ROW_FIELDS order."""
        return self.values_list(*ROW_FIELDS)
