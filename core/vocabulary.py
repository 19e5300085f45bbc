"""The words every app uses: pairs, timeframes and event types, declared once.

The signal, journal, webhook and event-log filters, the candle import and the cache
versions all check pairs and timeframes against these, so one malformed value is
refused the same way everywhere.
"""

import re
from collections.abc import Iterable

from django.core.validators import RegexValidator
from django.db import models

PAIR_REGEX = r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$"
PAIR_MESSAGE = "Pair must be upper-case BASE/QUOTE, for example EUR/USD."
pair_validator = RegexValidator(PAIR_REGEX, PAIR_MESSAGE)
PAIR_PATTERN = re.compile(PAIR_REGEX)


def pair_list(text: str) -> list[str]:
    """The items of a comma-separated list of pairs, stripped, not yet checked."""
    return [item.strip() for item in text.split(",")]


def pairs_invalid(pairs: Iterable[str]) -> list[str]:
    """The items that are not pairs."""
    return [pair for pair in pairs if not PAIR_PATTERN.match(pair)]


class Timeframe(models.TextChoices):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"


TIMEFRAME_SECONDS = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "4h": 14400,
    "1d": 86400,
}


class EventType(models.TextChoices):
    CREATED = "signal.created"
    UPDATED = "signal.updated"
    RESOLVED = "signal.resolved"
