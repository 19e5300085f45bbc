from collections.abc import Sequence

from django.db import models
from django.db.models import F, Window
from django.db.models.functions import RowNumber


class CandleQuerySet(models.QuerySet):
    def series(self, pair: str, timeframe: str) -> "CandleQuerySet":
        return self.filter(pair=pair, timeframe=timeframe)

    def latest_windows(
        self, pairs: Sequence[str], timeframe: str, limit: int
    ) -> "CandleQuerySet":
        """The last `limit` candles of each pair, by pair then time (one query)."""
        newest_first = Window(
            RowNumber(), partition_by=F("pair"), order_by=F("timestamp").desc()
        )
        return (
            self.filter(pair__in=list(pairs), timeframe=timeframe)
            .annotate(newest_rank=newest_first)
            .filter(newest_rank__lte=limit)
            .order_by("pair", "timestamp")
        )
