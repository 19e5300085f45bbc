"""The value sets of a signal (the contract's vocabulary); the journal shares them."""

from django.db import models


class Direction(models.TextChoices):
    BUY = "buy"
    SELL = "sell"


class Status(models.TextChoices):
    ACTIVE = "active"
    CLOSED = "closed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class SkipReason(models.TextChoices):
    """Why the generator made no signal for a pair."""

    NO_MARKET_DATA = "no market data"
    NOT_ENOUGH_CANDLES = "not enough candles"
    NO_SETUP = "no setup"
    ALREADY_GENERATED = "already generated"


class Outcome(models.TextChoices):
    PENDING = "pending"
    WIN = "win"
    LOSS = "loss"
    BREAKEVEN = "breakeven"


class CalibrationMethod(models.TextChoices):
    """How a calibration map turns a strategy's score into a probability."""

    ISOTONIC = "isotonic"
    LOGISTIC = "logistic"
    PRIOR = "prior"  # too few outcomes for a map: the shrunk base rate
