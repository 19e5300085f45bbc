"""Candles from a Binance-compatible public klines endpoint, fetched over HTTP.

`KlinesProvider` implements `market.windows.MarketDataProvider`. It asks
`GET {base_url}/api/v3/klines` for every pair at once (at most `max_concurrency` in
flight), retries throttling, server errors and network failures with exponential
backoff, and returns only closed candles.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from django.conf import settings

from .windows import CandleWindow, MarketDataError, window_from_rows

logger = logging.getLogger(__name__)

KLINES_PATH = "/api/v3/klines"
# The endpoint refuses larger limits.
MAX_LIMIT = 1000
# Our timeframes and the exchange's interval names happen to coincide; the mapping
# still documents which ones are supported.
INTERVALS = {tf: tf for tf in ("1m", "5m", "15m", "30m", "1h", "4h", "1d")}
# Binance's error code for a symbol it does not list.
UNKNOWN_SYMBOL_CODE = -1121
# open time, open, high, low, close, volume, close time (later fields are unused).
MIN_KLINE_FIELDS = 7
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Sleep = Callable[[float], Awaitable[object]]
Clock = Callable[[], datetime]
Row = tuple[datetime, Decimal, Decimal, Decimal]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def symbol_for(pair: str) -> str:
    """The exchange symbol of a pair: "BTC/USDT" -> "BTCUSDT"."""
    return pair.replace("/", "").strip().upper()


class _Retryable(Exception):
    """One attempt failed in a way another attempt may fix."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class KlinesProvider:
    """Closed candles of many pairs from a public klines endpoint, fetched concurrently.

    A request is retried `retries` times (so made at most `retries + 1` times) on 429,
    5xx, timeouts and transport errors; other 4xx fail at once. A symbol the exchange
    does not list is left out of the result.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 10,
        retries: int = 3,
        backoff: float = 0.5,
        client: httpx.AsyncClient | None = None,
        *,
        max_concurrency: int = 8,
        max_backoff: float = 30,
        max_retry_after: float = 60,
        jitter: bool = True,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = _utcnow,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        if timeout <= 0 or retries < 0 or backoff < 0 or max_concurrency < 1:
            raise ValueError(
                "need timeout > 0, retries >= 0, backoff >= 0 and max_concurrency >= 1"
            )
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout)
        self.retries = retries
        self.backoff = backoff
        self.client = client
        self.max_concurrency = max_concurrency
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.jitter = jitter
        self.sleep = sleep
        self.clock = clock

    @classmethod
    def from_settings(cls) -> KlinesProvider:
        """A provider configured by KLINES_BASE_URL and KLINES_TIMEOUT."""
        return cls(
            base_url=settings.KLINES_BASE_URL, timeout=float(settings.KLINES_TIMEOUT)
        )

    async def windows(
        self, pairs: Sequence[str], timeframe: str, limit: int
    ) -> dict[str, CandleWindow]:
        """The last `limit` closed candles per pair; unknown or empty pairs left out."""
        interval = INTERVALS.get(timeframe)
        if interval is None:
            raise MarketDataError(
                f"klines: unsupported timeframe {timeframe!r}; "
                f"expected one of {', '.join(INTERVALS)}"
            )
        if limit < 1 or not pairs:
            return {}
        if self.client is not None:
            return await self._fetch_all(self.client, pairs, interval, limit)
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            return await self._fetch_all(client, pairs, interval, limit)

    async def _fetch_all(
        self,
        client: httpx.AsyncClient,
        pairs: Sequence[str],
        interval: str,
        limit: int,
    ) -> dict[str, CandleWindow]:
        semaphore = asyncio.Semaphore(self.max_concurrency)

        async def bounded(pair: str) -> list[Row] | None:
            async with semaphore:
                return await self._fetch_pair(client, pair, interval, limit)

        unique = list(dict.fromkeys(pairs))
        tasks = [asyncio.ensure_future(bounded(pair)) for pair in unique]
        try:
            results = await asyncio.gather(*tasks)
        except BaseException:
            # gather leaves the other fetches running; stop them before the client
            # they use is closed, and so nothing outlives this call.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return {
            pair: window_from_rows(pair, rows)
            for pair, rows in zip(unique, results, strict=True)
            if rows
        }

    async def _fetch_pair(
        self, client: httpx.AsyncClient, pair: str, interval: str, limit: int
    ) -> list[Row] | None:
        """Closed rows of one pair, oldest first; None when the exchange lacks it."""
        symbol = symbol_for(pair)
        # The newest kline is usually still open and gets dropped, so ask for one more.
        params = {
            "symbol": symbol,
            "interval": interval,
            "limit": min(limit + 1, MAX_LIMIT),
        }
        url = f"{self.base_url}{KLINES_PATH}"
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                payload = await self._get(client, url, params, pair)
            except _Retryable as failure:
                if attempt + 1 == attempts:
                    raise MarketDataError(
                        f"klines for {pair} ({symbol}): GET {KLINES_PATH} failed "
                        f"after {attempts} attempts; last {failure.reason}"
                    ) from failure
                delay = self._delay(attempt, failure.retry_after)
                logger.warning(
                    "klines for %s: %s; retry %d of %d in %.2fs",
                    pair,
                    failure.reason,
                    attempt + 1,
                    self.retries,
                    delay,
                )
                await self.sleep(delay)
                continue
            if payload is None:
                return None
            rows = parse_klines(payload, pair=pair, now=self.clock())
            return rows[-limit:]
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _get(
        self,
        client: httpx.AsyncClient,
        url: str,
        params: dict[str, str | int],
        pair: str,
    ) -> Any:
        """One request's JSON payload, None for an unknown symbol; raises on failure."""
        try:
            response = await client.get(url, params=params, timeout=self.timeout)
        except httpx.UnsupportedProtocol as error:
            raise MarketDataError(
                f"klines for {pair}: GET {KLINES_PATH} cannot be sent: {error}"
            ) from error
        except httpx.TransportError as error:
            # Includes timeouts. Some httpx errors have no message; the type still says.
            detail = f": {error}" if str(error) else ""
            raise _Retryable(f"error {type(error).__name__}{detail}") from error
        status = response.status_code
        if status == 429 or status >= 500:
            raise _Retryable(
                f"status {status}", retry_after=_retry_after(response.headers)
            )
        if status >= 400:
            body = _json_or_none(response)
            if status == 400 and _error_code(body) == UNKNOWN_SYMBOL_CODE:
                logger.warning(
                    "klines: the exchange does not list %s (%s); leaving it out",
                    pair,
                    params["symbol"],
                )
                return None
            message = body.get("msg") if isinstance(body, dict) else None
            raise MarketDataError(
                f"klines for {pair}: GET {KLINES_PATH} failed with status {status}"
                + (f": {message}" if message else "")
            )
        if status != 200:
            raise MarketDataError(
                f"klines for {pair}: GET {KLINES_PATH} answered status {status}"
            )
        try:
            return response.json()
        except ValueError as error:
            raise MarketDataError(
                f"klines for {pair}: GET {KLINES_PATH} returned malformed JSON: {error}"
            ) from error

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `attempt + 1`."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        delay = min(self.backoff * 2**attempt, self.max_backoff)
        if self.jitter:
            # Spread out clients that failed together so they do not retry together.
            delay *= random.uniform(0.5, 1.0)
        return delay


def parse_klines(payload: Any, *, pair: str, now: datetime) -> list[Row]:
    """Checked (timestamp, high, low, close) rows of closed klines, oldest first."""

    def malformed(detail: str) -> MarketDataError:
        return MarketDataError(f"klines for {pair}: malformed payload: {detail}")

    if not isinstance(payload, list):
        raise malformed(f"expected a list, got {type(payload).__name__}")
    now_ms = int((now - EPOCH) / timedelta(milliseconds=1))
    rows: list[Row] = []
    previous_ms: int | None = None
    for index, kline in enumerate(payload):
        if not isinstance(kline, list) or len(kline) < MIN_KLINE_FIELDS:
            raise malformed(
                f"kline {index} is not a list of at least {MIN_KLINE_FIELDS} items"
            )
        open_ms, close_ms = kline[0], kline[6]
        if not (_is_int(open_ms) and _is_int(close_ms)) or close_ms < open_ms:
            raise malformed(f"kline {index} has bad open/close times")
        if previous_ms is not None and open_ms <= previous_ms:
            raise malformed(f"kline {index} is not newer than the one before it")
        previous_ms = open_ms
        # The close time is the candle's last millisecond: it is final only after it.
        if index == len(payload) - 1 and close_ms >= now_ms:
            break
        try:
            high, low, close = (_price(kline[i]) for i in (2, 3, 4))
            timestamp = EPOCH + timedelta(milliseconds=open_ms)
        except (InvalidOperation, TypeError, ValueError, OverflowError) as error:
            raise malformed(f"kline {index}: {error}") from error
        rows.append((timestamp, high, low, close))
    return rows


def _price(value: Any) -> Decimal:
    # Prices arrive as strings so they stay exact; a float would already be rounded.
    if not isinstance(value, str):
        raise TypeError(f"price {value!r} is not a string")
    price = Decimal(value)
    if not price.is_finite():
        raise ValueError(f"price {value!r} is not finite")
    return price


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _retry_after(headers: httpx.Headers) -> float | None:
    """Retry-After in seconds; None when absent or not a number of seconds."""
    try:
        seconds = float(headers.get("Retry-After", ""))
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(body: Any) -> int | None:
    return body.get("code") if isinstance(body, dict) else None
