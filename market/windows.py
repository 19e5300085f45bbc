"""The candles a provider delivers (`CandleWindow`), the interface every provider
implements (`MarketDataProvider`) and its error. Pure: numbers and arrays only.

Below both `market.providers` (which picks a provider) and `market.klines` (one of
them), so neither needs the other's module to speak of a window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import numpy as np


class MarketDataError(Exception):
    """A provider could not deliver candles; the message says why."""


@dataclass(frozen=True)
class CandleWindow:
    """The newest candles of one pair and timeframe, oldest first."""

    pair: str
    timestamps: list[datetime]
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    last_close: Decimal

    def __len__(self) -> int:
        return len(self.timestamps)


def window_from_rows(
    pair: str, rows: Sequence[tuple[datetime, Decimal, Decimal, Decimal]]
) -> CandleWindow:
    """Build a window from (timestamp, high, low, close) rows, oldest first."""
    prices = np.array([row[1:] for row in rows], dtype=float).reshape(-1, 3)
    return CandleWindow(
        pair=pair,
        timestamps=[row[0] for row in rows],
        high=prices[:, 0],
        low=prices[:, 1],
        close=prices[:, 2],
        last_close=Decimal(rows[-1][3]) if rows else Decimal(0),
    )


class MarketDataProvider(Protocol):
    async def windows(
        self, pairs: Sequence[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        """The last `limit` candles of each pair; pairs without candles are left out."""
        ...
