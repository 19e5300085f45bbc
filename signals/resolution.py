"""How a signal ends, from the candles after its own (pure: no Django imports).

Rules (the contract's `backfill_outcomes`): candles are read in order; a candle
that opens at or beyond a level exits at its open with that level's outcome; else
a candle whose range reaches both levels counts as the stop; else the level it
reaches exits at the level. With no exit within `expiry_bars` candles the signal
expires at the close of the last of them.
"""

from dataclasses import dataclass

import numpy as np

TARGET_AT_OPEN = "target_open"
STOP_AT_OPEN = "stop_open"
TARGET = "target"
STOP = "stop"
EXPIRED = "expired"


@dataclass(frozen=True)
class Exit:
    index: int  # position of the exit candle among the candles given
    kind: str  # one of the constants above


def first_exit(
    direction: str,
    stop: float,
    target: float,
    opens: np.ndarray,
    highs: np.ndarray,
    lows: np.ndarray,
    expiry_bars: int,
) -> Exit | None:
    """The exit among the first `expiry_bars` candles, or None while it is undecided."""
    opens, highs, lows = opens[:expiry_bars], highs[:expiry_bars], lows[:expiry_bars]
    if direction == "buy":
        gap_target, gap_stop = opens >= target, opens <= stop
        hit_target, hit_stop = highs >= target, lows <= stop
    else:
        gap_target, gap_stop = opens <= target, opens >= stop
        hit_target, hit_stop = lows <= target, highs >= stop
    hits = hit_target | hit_stop | gap_target | gap_stop
    if hits.any():
        i = int(np.argmax(hits))
        if gap_stop[i]:
            return Exit(i, STOP_AT_OPEN)
        if gap_target[i]:
            return Exit(i, TARGET_AT_OPEN)
        return Exit(i, STOP if hit_stop[i] else TARGET)
    if len(opens) >= expiry_bars:
        return Exit(expiry_bars - 1, EXPIRED)
    return None


def excursion_indexes(
    highs: np.ndarray, lows: np.ndarray, exit_index: int
) -> tuple[int, int]:
    """Positions of the highest high and the lowest low up to the exit candle."""
    return int(np.argmax(highs[: exit_index + 1])), int(
        np.argmin(lows[: exit_index + 1])
    )
