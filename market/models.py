from django.db import models
from django.db.models import F, Q

from core.vocabulary import Timeframe

from .querysets import CandleQuerySet

PRICE = {"max_digits": 20, "decimal_places": 8}


class Candle(models.Model):
    pair = models.CharField(max_length=25)
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    timestamp = models.DateTimeField(help_text="Open time of the candle (UTC).")
    open = models.DecimalField(**PRICE)
    high = models.DecimalField(**PRICE)
    low = models.DecimalField(**PRICE)
    close = models.DecimalField(**PRICE)
    volume = models.DecimalField(max_digits=24, decimal_places=8, default=0)
    source = models.CharField(
        max_length=20,
        db_default="import",
        help_text="Where the candle came from: import, or synthetic (demo data).",
    )

    objects = CandleQuerySet.as_manager()

    class Meta:
        # The table the signals app created: the model moved, the rows did not.
        db_table = "signals_candle"
        ordering = ["pair", "timeframe", "timestamp"]
        constraints = [
            models.UniqueConstraint(
                fields=["pair", "timeframe", "timestamp"], name="uniq_candle_pair_tf_ts"
            ),
            models.CheckConstraint(
                condition=Q(high__gte=F("low")), name="candle_high_not_below_low"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pair} {self.timeframe} {self.timestamp:%Y-%m-%d %H:%M}"
