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


class Outcome(models.TextChoices):
    PENDING = "pending"
    WIN = "win"
    LOSS = "loss"
    BREAKEVEN = "breakeven"
