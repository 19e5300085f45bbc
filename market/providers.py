"""Where the generator gets candles: the providers and the setting that picks one.

`DatabaseProvider` (the default) reads stored candles; `market.klines.KlinesProvider`
reads a public exchange klines endpoint over HTTP. `MARKET_DATA_PROVIDER` picks one.
Both deliver `market.windows.CandleWindow`s (the interface is `MarketDataProvider`).
"""

from __future__ import annotations

from collections.abc import Sequence

from asgiref.sync import sync_to_async

from .klines import KlinesProvider
from .models import Candle
from .windows import CandleWindow, MarketDataError, MarketDataProvider, window_from_rows


class DatabaseProvider:
    """Stored candles, every pair's window in one query (a window function)."""

    async def windows(
        self, pairs: Sequence[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        return await sync_to_async(self.windows_sync)(pairs, timeframe, limit)

    def windows_sync(
        self, pairs: Sequence[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        rows = Candle.objects.latest_windows(pairs, timeframe, limit).values_list(
            "pair", "timestamp", "high", "low", "close"
        )
        grouped: dict[str, list[tuple]] = {}
        for pair, *values in rows:
            grouped.setdefault(pair, []).append(values)
        return {pair: window_from_rows(pair, items) for pair, items in grouped.items()}


def provider_for(name: str) -> MarketDataProvider:
    """The provider a MARKET_DATA_PROVIDER setting names."""
    if name == "database":
        return DatabaseProvider()
    if name == "klines":
        return KlinesProvider.from_settings()
    raise MarketDataError(f"unknown market data provider {name!r}")
