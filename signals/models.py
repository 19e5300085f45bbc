from django.conf import settings
from django.db import models
from django.db.models import F, Q

from core.validators import validate_json_without_nul
from core.vocabulary import Timeframe

from .choices import CalibrationMethod, Direction, Outcome, Status
from .querysets import SignalQuerySet
from .rollup_table import SignalRollup

# SignalRollup lives below the querysets (signals.rollup_table); the app's models are
# all named here.
__all__ = ["Backtest", "BacktestStatus", "Calibration", "Signal", "SignalRollup"]

PRICE = {"max_digits": 20, "decimal_places": 8}
PIPS = {"max_digits": 16, "decimal_places": 4}


class Calibration(models.Model):
    """One fitted map from a strategy's score to the probability of a win, for one
    strategy and timeframe, from the outcomes resolved up to `outcomes_until`.
    Rows are versions: a refit adds one and never changes a stored signal."""

    strategy = models.CharField(max_length=50)
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    fitted_at = models.DateTimeField()
    outcomes_until = models.DateTimeField(
        help_text="closed_at of the last outcome the fit used (every one ≤ it)."
    )
    count = models.PositiveIntegerField(help_text="Resolved outcomes fitted on.")
    wins = models.PositiveIntegerField()
    base_rate = models.FloatField(help_text="Win rate shrunk toward the prior.")
    method = models.CharField(max_length=8, choices=CalibrationMethod.choices)
    brier_in_sample = models.FloatField(null=True, blank=True)
    brier_out_of_sample = models.FloatField(null=True, blank=True)
    mapping = models.JSONField(
        default=dict, blank=True, help_text="The map's parameters (see calibration)."
    )

    class Meta:
        ordering = ["-outcomes_until", "-id"]
        indexes = [
            models.Index(
                fields=["strategy", "timeframe", "-outcomes_until", "-id"],
                name="idx_calibration_latest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.strategy} {self.timeframe} {self.method} ({self.count})"


class Signal(models.Model):
    pair = models.CharField(max_length=25)
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    direction = models.CharField(max_length=4, choices=Direction.choices)
    entry_price = models.DecimalField(**PRICE)
    stop_loss = models.DecimalField(**PRICE)
    take_profit = models.DecimalField(**PRICE)
    confidence = models.DecimalField(max_digits=5, decimal_places=2)
    score = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The strategy's own rating (not a probability); null if none.",
    )
    status = models.CharField(
        max_length=9, choices=Status.choices, default=Status.ACTIVE
    )
    outcome = models.CharField(
        max_length=9, choices=Outcome.choices, default=Outcome.PENDING
    )
    timestamp = models.DateTimeField(help_text="Open time of the signal's candle.")
    risk_reward = models.DecimalField(max_digits=12, decimal_places=4)
    strategy = models.CharField(max_length=50, default="manual")
    indicators = models.JSONField(
        default=dict, blank=True, validators=[validate_json_without_nul]
    )
    reasoning = models.TextField(blank=True, default="")
    exit_price = models.DecimalField(null=True, blank=True, **PRICE)
    pips = models.DecimalField(null=True, blank=True, **PIPS)
    mae_pips = models.DecimalField(null=True, blank=True, **PIPS)
    mfe_pips = models.DecimalField(null=True, blank=True, **PIPS)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    calibration = models.ForeignKey(
        Calibration,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The map that gave the confidence; null for the prior or by hand.",
    )

    objects = SignalQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pair", "timeframe", "strategy", "timestamp"],
                name="uniq_signal_pair_tf_strategy_ts",
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=100),
                name="signal_confidence_0_100",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100) | Q(score__isnull=True),
                name="signal_score_0_100",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        direction="buy",
                        stop_loss__lt=F("entry_price"),
                        take_profit__gt=F("entry_price"),
                    )
                    | Q(
                        direction="sell",
                        stop_loss__gt=F("entry_price"),
                        take_profit__lt=F("entry_price"),
                    )
                ),
                name="signal_levels_match_direction",
            ),
        ]
        indexes = [
            # Unfiltered newest-first pages and the feed walk this one.
            models.Index(fields=["-timestamp", "-id"], name="idx_timestamp_id"),
            models.Index(
                fields=["pair", "-timestamp", "-id"], name="idx_pair_timestamp"
            ),
            models.Index(
                fields=["pair", "status", "-timestamp", "-id"],
                name="idx_pair_status_timestamp",
            ),
            models.Index(
                fields=["status", "-confidence"], name="idx_status_confidence"
            ),
            models.Index(
                fields=["pair", "outcome", "-timestamp", "-id"],
                name="idx_pair_outcome_timestamp",
            ),
        ]

    def __str__(self) -> str:
        when = f"{self.timestamp:%Y-%m-%d %H:%M}"
        return f"{self.direction} {self.pair} {self.timeframe} @ {when}"


class BacktestStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Backtest(models.Model):
    """A backtest asked for over the API: its options, progress and report."""

    pair = models.CharField(max_length=25)
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    folds = models.PositiveSmallIntegerField(default=5)
    optimize = models.CharField(max_length=500, blank=True, default="")
    strategy = models.CharField(max_length=50, default="trend_momentum")
    status = models.CharField(
        max_length=7, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=1),
                name="backtest_progress_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"backtest {self.pair} {self.timeframe} ({self.status})"

    def options_for_run(self) -> dict:
        """The run's options as `BacktestOptions` takes them."""
        return {
            "pair": self.pair,
            "timeframe": self.timeframe,
            "since": self.since,
            "until": self.until,
            "folds": self.folds,
            "optimize": self.optimize or None,
            "strategy": self.strategy,
        }
