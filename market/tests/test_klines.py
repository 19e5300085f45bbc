"""KlinesProvider against a scripted fake exchange served on 127.0.0.1 by uvicorn."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from market.klines import KlinesProvider
from market.providers import MarketDataError, provider_for

HOUR_MS = 3_600_000
START = datetime(2024, 1, 1, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)
# Five 1h candles from START are closed at NOW; the sixth (05:00-06:00) is still open.
NOW = START + timedelta(hours=5, minutes=30)
UNKNOWN_SYMBOL_BODY = {"code": -1121, "msg": "Invalid symbol."}


@dataclass
class Reply:
    """One scripted answer: JSON body (or raw text), status, headers, and a delay."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeExchange:
    """What the server answers per symbol, and what it saw."""

    base_url: str = ""
    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def reset(self) -> None:
        self.scripts.clear()
        self.requests.clear()
        self.in_flight = self.max_in_flight = 0

    def script(self, symbol: str, *replies: Reply) -> None:
        """Answer `symbol` with these replies in turn, repeating the last one."""
        self.scripts[symbol] = list(replies)

    def count(self, symbol: str) -> int:
        return sum(1 for params in self.requests if params.get("symbol") == symbol)

    async def klines(self, request: Request) -> Response:
        params = dict(request.query_params)
        self.requests.append(params)
        script = self.scripts.get(params.get("symbol", ""))
        if not script:
            reply = Reply(UNKNOWN_SYMBOL_BODY, status=400)
        else:
            reply = script.pop(0) if len(script) > 1 else script[0]
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(reply.delay)
        finally:
            self.in_flight -= 1
        body = reply.body
        if isinstance(body, list) and "limit" in params:
            # Like the real endpoint: the newest `limit` klines.
            body = body[-int(params["limit"]) :]
        content = body if isinstance(body, str) else json.dumps(body)
        return Response(
            content,
            status_code=reply.status,
            headers=reply.headers,
            media_type="application/json",
        )


def kline(index: int, close: str) -> list[Any]:
    """A 1h kline `index` hours after START, shaped like the exchange's."""
    open_ms = START_MS + index * HOUR_MS
    high, low = str(Decimal(close) + 1), str(Decimal(close) - 1)
    return [open_ms, close, high, low, close, "12.5", open_ms + HOUR_MS - 1, "0", 7]


def series(*closes: str) -> list[list[Any]]:
    return [kline(index, close) for index, close in enumerate(closes)]


# Five closed candles and the open sixth, whose close must not be used.
BTC = series("42000.1", "42100.2", "42050.3", "42200.4", "42300.12345678", "99999")
ETH = series("2200.5", "2210.25", "2190.125", "2205.0625", "2215.03125", "1")


@pytest.fixture(scope="module")
def exchange() -> Iterator[FakeExchange]:
    """A fake klines endpoint on a free loopback port, served from a thread."""
    fake = FakeExchange()
    app = Starlette(routes=[Route("/api/v3/klines", fake.klines)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake exchange did not start")
        time.sleep(0.01)
    fake.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    yield fake
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def fake(exchange: FakeExchange, monkeypatch: pytest.MonkeyPatch) -> FakeExchange:
    """The shared fake, emptied; proxies unset so requests stay on loopback."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    exchange.reset()
    return exchange


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def provider(fake: FakeExchange, sleeps: list[float]) -> KlinesProvider:
    """Fast, jitter-free and clock-fixed: retries wait on a recorder, not the clock."""

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    return KlinesProvider(
        fake.base_url,
        timeout=2,
        retries=2,
        backoff=0.01,
        jitter=False,
        sleep=record,
        clock=lambda: NOW,
    )


def test_windows_fetches_closed_candles_of_several_pairs(
    fake: FakeExchange, provider: KlinesProvider
) -> None:
    fake.script("BTCUSDT", Reply(BTC, delay=0.1))
    fake.script("ETHUSDT", Reply(ETH, delay=0.1))

    windows = asyncio.run(provider.windows(["BTC/USDT", "ETH/USDT"], "1h", 10))

    assert set(windows) == {"BTC/USDT", "ETH/USDT"}
    btc = windows["BTC/USDT"]
    assert btc.pair == "BTC/USDT"
    assert btc.timestamps == [START + timedelta(hours=h) for h in range(5)]
    assert all(
        ts.tzinfo is not None and ts.utcoffset() == timedelta(0)
        for ts in btc.timestamps
    )
    assert btc.last_close == Decimal("42300.12345678")
    assert list(btc.close) == [42000.1, 42100.2, 42050.3, 42200.4, 42300.12345678]
    assert list(btc.high) == [42001.1, 42101.2, 42051.3, 42201.4, 42301.12345678]
    assert list(btc.low) == [41999.1, 42099.2, 42049.3, 42199.4, 42299.12345678]
    assert windows["ETH/USDT"].last_close == Decimal("2215.03125")
    assert len(windows["ETH/USDT"]) == 5
    assert sorted(fake.requests, key=lambda params: params["symbol"]) == [
        {"symbol": "BTCUSDT", "interval": "1h", "limit": "11"},
        {"symbol": "ETHUSDT", "interval": "1h", "limit": "11"},
    ]
    assert fake.max_in_flight == 2


def test_windows_returns_exactly_limit_closed_candles(
    fake: FakeExchange, provider: KlinesProvider
) -> None:
    fake.script("BTCUSDT", Reply(BTC))

    window = asyncio.run(provider.windows(["BTC/USDT"], "1h", 3))["BTC/USDT"]

    assert window.timestamps == [START + timedelta(hours=h) for h in (2, 3, 4)]
    assert window.last_close == Decimal("42300.12345678")
    assert fake.requests == [{"symbol": "BTCUSDT", "interval": "1h", "limit": "4"}]


def test_windows_keeps_the_last_kline_once_it_has_closed(fake: FakeExchange) -> None:
    fake.script("BTCUSDT", Reply(BTC))
    provider = KlinesProvider(fake.base_url, clock=lambda: START + timedelta(hours=6))

    window = asyncio.run(provider.windows(["BTC/USDT"], "1h", 10))["BTC/USDT"]

    assert len(window) == 6
    assert window.last_close == Decimal("99999")


def test_windows_caps_the_requested_limit_at_the_endpoint_maximum(
    fake: FakeExchange, provider: KlinesProvider
) -> None:
    fake.script("BTCUSDT", Reply(BTC))

    asyncio.run(provider.windows(["BTC/USDT"], "4h", 5000))

    assert fake.requests == [{"symbol": "BTCUSDT", "interval": "4h", "limit": "1000"}]


def test_windows_bounds_concurrent_requests(fake: FakeExchange) -> None:
    symbols = [f"C{n}USDT" for n in range(6)]
    for symbol in symbols:
        fake.script(symbol, Reply(BTC, delay=0.1))
    provider = KlinesProvider(fake.base_url, max_concurrency=2, clock=lambda: NOW)

    windows = asyncio.run(provider.windows([f"C{n}/USDT" for n in range(6)], "1h", 5))

    assert len(windows) == 6
    assert fake.max_in_flight == 2


def test_windows_retries_after_429_honouring_retry_after(
    fake: FakeExchange, provider: KlinesProvider, sleeps: list[float]
) -> None:
    fake.script(
        "BTCUSDT",
        Reply({"code": -1003, "msg": "Too many requests"}, 429, {"Retry-After": "3"}),
        Reply(BTC),
    )

    windows = asyncio.run(provider.windows(["BTC/USDT"], "1h", 10))

    assert windows["BTC/USDT"].last_close == Decimal("42300.12345678")
    assert fake.count("BTCUSDT") == 2
    assert sleeps == [3.0]


def test_windows_caps_a_long_retry_after(
    fake: FakeExchange, sleeps: list[float]
) -> None:
    fake.script("BTCUSDT", Reply(None, 429, {"Retry-After": "3600"}), Reply(BTC))

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    provider = KlinesProvider(
        fake.base_url, max_retry_after=5, sleep=record, clock=lambda: NOW
    )
    asyncio.run(provider.windows(["BTC/USDT"], "1h", 10))

    assert sleeps == [5.0]


def test_windows_retries_server_errors_with_exponential_backoff(
    fake: FakeExchange, provider: KlinesProvider, sleeps: list[float]
) -> None:
    fake.script("BTCUSDT", Reply(None, 503), Reply(None, 502), Reply(BTC))

    windows = asyncio.run(provider.windows(["BTC/USDT"], "1h", 10))

    assert len(windows["BTC/USDT"]) == 5
    assert fake.count("BTCUSDT") == 3
    assert sleeps == [0.01, 0.02]


def test_windows_gives_up_after_the_retries_naming_the_pair(
    fake: FakeExchange, provider: KlinesProvider
) -> None:
    fake.script("ETHUSDT", Reply(ETH))
    fake.script("BTCUSDT", Reply("oops", 503))

    with pytest.raises(MarketDataError) as raised:
        asyncio.run(provider.windows(["ETH/USDT", "BTC/USDT"], "1h", 10))

    message = str(raised.value)
    assert "BTC/USDT" in message
    assert "/api/v3/klines" in message
    assert "status 503" in message
    assert "3 attempts" in message
    assert fake.count("BTCUSDT") == 3


def test_windows_retries_a_timeout_then_raises(fake: FakeExchange) -> None:
    fake.script("BTCUSDT", Reply(BTC, delay=0.5))
    provider = KlinesProvider(
        fake.base_url, timeout=0.1, retries=1, backoff=0.001, jitter=False
    )

    with pytest.raises(MarketDataError, match=r"BTC/USDT.*ReadTimeout"):
        asyncio.run(provider.windows(["BTC/USDT"], "1h", 10))

    assert fake.count("BTCUSDT") == 2


def test_windows_recovers_when_a_retry_is_fast_enough(
    fake: FakeExchange, sleeps: list[float]
) -> None:
    fake.script("BTCUSDT", Reply(BTC, delay=0.5), Reply(BTC))

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    provider = KlinesProvider(
        fake.base_url, timeout=0.1, jitter=False, sleep=record, clock=lambda: NOW
    )
    windows = asyncio.run(provider.windows(["BTC/USDT"], "1h", 10))

    assert len(windows["BTC/USDT"]) == 5
    assert fake.count("BTCUSDT") == 2


def test_windows_does_not_retry_other_client_errors(
    fake: FakeExchange, provider: KlinesProvider
) -> None:
    fake.script("BTCUSDT", Reply({"code": -2015, "msg": "Forbidden."}, 403))

    with pytest.raises(MarketDataError, match=r"BTC/USDT.*status 403: Forbidden"):
        asyncio.run(provider.windows(["BTC/USDT"], "1h", 10))

    assert fake.count("BTCUSDT") == 1


def test_windows_leaves_out_a_symbol_the_exchange_does_not_list(
    fake: FakeExchange, provider: KlinesProvider, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script("BTCUSDT", Reply(BTC))

    with caplog.at_level(logging.WARNING, logger="market.klines"):
        windows = asyncio.run(provider.windows(["BTC/USDT", "EUR/USD"], "1h", 10))

    assert set(windows) == {"BTC/USDT"}
    assert fake.count("EURUSD") == 1
    assert "EUR/USD" in caplog.text


def test_windows_leaves_out_a_pair_without_klines(
    fake: FakeExchange, provider: KlinesProvider
) -> None:
    fake.script("BTCUSDT", Reply([]))

    assert asyncio.run(provider.windows(["BTC/USDT"], "1h", 10)) == {}


@pytest.mark.parametrize(
    "body",
    [
        "[[1704067200000, ",
        {"code": 0, "msg": "not a list"},
        [[START_MS, "1", "2", "0.5", "1.5", "10"]],
        [[START_MS, "1", "2", "0.5", "abc", "10", START_MS + HOUR_MS - 1]],
        [[START_MS, "1", "2", "0.5", 1.5, "10", START_MS + HOUR_MS - 1]],
        [["soon", "1", "2", "0.5", "1.5", "10", START_MS + HOUR_MS - 1]],
        [kline(1, "1"), kline(0, "2")],
    ],
    ids=[
        "truncated-json",
        "object",
        "short-kline",
        "bad-price",
        "float-price",
        "bad-time",
        "newest-first",
    ],
)
def test_windows_rejects_a_malformed_payload(
    fake: FakeExchange, provider: KlinesProvider, body: Any
) -> None:
    fake.script("BTCUSDT", Reply(body))

    with pytest.raises(MarketDataError, match="BTC/USDT.*malformed"):
        asyncio.run(provider.windows(["BTC/USDT"], "1h", 10))

    assert fake.count("BTCUSDT") == 1


def test_windows_rejects_an_unsupported_timeframe(provider: KlinesProvider) -> None:
    with pytest.raises(MarketDataError, match="2h"):
        asyncio.run(provider.windows(["BTC/USDT"], "2h", 10))


def test_windows_uses_an_injected_client_and_leaves_it_open(
    fake: FakeExchange,
) -> None:
    fake.script("BTCUSDT", Reply(BTC))

    async def fetch() -> tuple[int, bool]:
        async with httpx.AsyncClient(trust_env=False) as client:
            provider = KlinesProvider(fake.base_url, client=client, clock=lambda: NOW)
            windows = await provider.windows(["BTC/USDT"], "1h", 10)
            return len(windows["BTC/USDT"]), client.is_closed

    assert asyncio.run(fetch()) == (5, False)


def test_provider_for_klines_builds_it_from_settings(
    fake: FakeExchange, settings: Any
) -> None:
    settings.KLINES_BASE_URL = fake.base_url + "/"
    settings.KLINES_TIMEOUT = 2.5
    fake.script("BTCUSDT", Reply(BTC))

    provider = provider_for("klines")

    assert isinstance(provider, KlinesProvider)
    assert provider.base_url == fake.base_url
    assert provider.timeout == httpx.Timeout(2.5)
    windows = asyncio.run(provider.windows(["BTC/USDT"], "1h", 3))
    assert len(windows["BTC/USDT"]) == 3
