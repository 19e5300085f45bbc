"""What the admin's charts draw: a signal over its candles, and the performance page.

Reads only; the numbers of the performance page are `SignalQuerySet.stats()` (the
same as /api/signals/stats/) plus the pips realised per day.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from core.vocabulary import TIMEFRAME_SECONDS
from market.models import Candle
from market.pricing import pip_size

from .models import Signal
from .querysets import SignalQuerySet

# Candles shown before the signal's own: enough to see the setup, not the generator's
# whole SIGNAL_LOOKBACK window.
CHART_LOOKBACK = 100


def _seconds(moment: datetime) -> int:
    """Lightweight-charts' time: UTC seconds since the epoch."""
    return int(moment.timestamp())


def _price(value: Any) -> float | None:
    return None if value is None else float(value)


def signal_chart(signal: Signal) -> dict[str, Any]:
    """The signal's candles (CHART_LOOKBACK before it, then up to its exit, or up to
    SIGNAL_EXPIRY_BARS while it is open), its levels, exit and excursions."""
    columns = ("timestamp", "open", "high", "low", "close")
    series = Candle.objects.series(signal.pair, signal.timeframe)
    history = series.filter(timestamp__lte=signal.timestamp).order_by("-timestamp")
    later = series.filter(timestamp__gt=signal.timestamp).order_by("timestamp")
    if signal.closed_at is not None:
        later = later.filter(timestamp__lt=signal.closed_at)
    rows = [
        *list(history.values_list(*columns)[: CHART_LOOKBACK + 1])[::-1],
        *later.values_list(*columns)[: settings.SIGNAL_EXPIRY_BARS],
    ]
    pip = pip_size(signal.pair, settings.PIP_SIZES)
    # Adverse is below entry for a buy, above for a sell; favourable the reverse.
    sign = 1 if signal.direction == "buy" else -1
    entry = signal.entry_price

    def excursion(pips: Any, towards: int) -> float | None:
        return None if pips is None else float(entry + towards * sign * pips * pip)

    exit_time = None
    if signal.closed_at is not None:
        # closed_at is the end of the exit candle; the marker sits on its open.
        step = timedelta(seconds=TIMEFRAME_SECONDS[signal.timeframe])
        exit_time = _seconds(signal.closed_at - step)
    return {
        "signal": {
            "id": signal.pk,
            "label": str(signal),
            "pair": signal.pair,
            "timeframe": signal.timeframe,
            "direction": signal.direction,
            "time": _seconds(signal.timestamp),
            # Enough decimals to tell a tenth of a pip apart.
            "precision": max(2, 1 - pip.normalize().as_tuple().exponent),
            "entry_price": float(entry),
            "stop_loss": float(signal.stop_loss),
            "take_profit": float(signal.take_profit),
            "status": signal.status,
            "outcome": signal.outcome,
            "exit_price": _price(signal.exit_price),
            "exit_time": exit_time,
            "pips": _price(signal.pips),
            "mae_pips": _price(signal.mae_pips),
            "mfe_pips": _price(signal.mfe_pips),
            "mae_price": excursion(signal.mae_pips, -1),
            "mfe_price": excursion(signal.mfe_pips, 1),
        },
        "candles": [
            {
                "time": _seconds(moment),
                "open": float(open_),
                "high": float(high),
                "low": float(low),
                "close": float(close),
            }
            for moment, open_, high, low, close in rows
        ],
    }


def performance(
    queryset: SignalQuerySet, filters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The performance page: the API's stats of these signals (`filters` selected
    them: see SignalQuerySet.stats) and pips per day."""
    stats = queryset.stats(filters=filters)
    days = queryset.pips_by_day()
    calibration = [
        {**bucket, "confidence": bucket["min_confidence"] + 5}
        for bucket in stats["calibration"]["buckets"]
    ]
    widest = max((abs(pair["total_pips"]) for pair in stats["by_pair"]), default=0)
    pairs = [
        {
            **pair,
            "win_rate_percent": None
            if pair["win_rate"] is None
            else round(pair["win_rate"] * 100, 1),
            # Bar lengths in percent of the widest, for the table's bars.
            "pips_bar": round(abs(pair["total_pips"]) / widest * 100, 1)
            if widest
            else 0,
        }
        for pair in stats["by_pair"]
    ]
    return {
        "stats": stats,
        "pairs": pairs,
        "chart": {
            "calibration": calibration,
            "cumulative_pips": [
                {"time": day["day"].isoformat(), "value": day["cumulative_pips"]}
                for day in days
            ],
        },
    }
