import csv
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
import talib
from django.core.management import call_command
from django.db import connection

from market.models import Candle
from market.tests.factories import candles_create
from signals.generation import signals_generate
from signals.models import Signal

pytestmark = pytest.mark.django_db
CONTRACT_KEYS = {
    "ema_20",
    "ema_50",
    "rsi_14",
    "macd",
    "macd_signal",
    "macd_hist",
    "atr_14",
    "adx_14",
    "bb_upper",
    "bb_middle",
    "bb_lower",
}


def wave_trend(sign: float, n: int = 300) -> tuple[np.ndarray, ...]:
    """A steady trend with pullbacks, which the default strategy trades."""
    t = np.arange(n, dtype=float) - (n - 1)
    close = 1.1 + sign * (2e-4 * t + 2e-3 * np.sin(2 * np.pi * t / 12 + np.pi))
    return close + 5e-4, close - 5e-4, close


def talib_reference(high, low, close) -> dict[str, float]:
    """The contract's indicator keys, straight from TA-Lib."""
    macd, signal, hist = talib.MACD(close, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(close, 20, 2, 2, 0)
    values = {
        "ema_20": talib.EMA(close, 20),
        "ema_50": talib.EMA(close, 50),
        "rsi_14": talib.RSI(close, 14),
        "macd": macd,
        "macd_signal": signal,
        "macd_hist": hist,
        "atr_14": talib.ATR(high, low, close, 14),
        "adx_14": talib.ADX(high, low, close, 14),
        "bb_upper": upper,
        "bb_middle": middle,
        "bb_lower": lower,
    }
    return {key: float(series[-1]) for key, series in values.items()}


def assert_matches_talib(signal: Signal, high, low, close) -> None:
    reference = talib_reference(high, low, close)
    assert CONTRACT_KEYS <= set(signal.indicators)
    for key, expected in reference.items():
        got = signal.indicators[key]
        assert abs(got - expected) <= 1e-6 * max(abs(expected), 1e-12), key


def stored_window(pair: str, limit: int) -> tuple[np.ndarray, ...]:
    rows = list(
        Candle.objects.series(pair, "1h")
        .order_by("-timestamp")[:limit]
        .values_list("high", "low", "close")
    )[::-1]
    return tuple(np.array(column, dtype=float) for column in zip(*rows, strict=True))


def test_generation_stores_one_signal_per_pair_with_talib_indicators():
    high, low, close = wave_trend(+1)
    candles_create("EUR/USD", high, low, close)
    candles_create("GBP/USD", *wave_trend(-1))
    result = signals_generate(pairs=["EUR/USD", "GBP/USD"], timeframe="1h")
    assert result.skipped == []
    by_pair = {s.pair: s for s in result.generated}
    assert (
        by_pair["EUR/USD"].direction == "buy" and by_pair["GBP/USD"].direction == "sell"
    )
    buy = Signal.objects.get(pk=by_pair["EUR/USD"].pk)
    last = Candle.objects.series("EUR/USD", "1h").latest("timestamp")
    assert buy.timestamp == last.timestamp and buy.entry_price == last.close
    assert buy.stop_loss < buy.entry_price < buy.take_profit
    assert 0 <= buy.confidence <= 100 and buy.strategy == "trend_momentum"
    assert buy.risk_reward == Decimal("2.0000")
    assert_matches_talib(buy, *stored_window("EUR/USD", 500))


def test_indicators_use_only_the_lookback_window(settings):
    settings.SIGNAL_LOOKBACK = 120
    candles_create("EUR/USD", *wave_trend(+1, n=400))
    (signal,) = signals_generate(pairs=["EUR/USD"], timeframe="1h").generated
    assert_matches_talib(signal, *stored_window("EUR/USD", 120))


def test_generating_twice_on_the_same_candle_creates_nothing_new():
    candles_create("EUR/USD", *wave_trend(+1))
    assert len(signals_generate(pairs=["EUR/USD"], timeframe="1h").generated) == 1
    again = signals_generate(pairs=["EUR/USD"], timeframe="1h")
    assert again.generated == []
    assert again.skipped == [{"pair": "EUR/USD", "reason": "already generated"}]
    assert Signal.objects.count() == 1


def test_skipped_pairs_carry_the_contract_reasons():
    flat = np.full(200, 1.2)
    candles_create("USD/CHF", flat + 1e-4, flat - 1e-4, flat)
    candles_create("AUD/USD", *wave_trend(+1, n=20))
    candles_create("EUR/USD", *wave_trend(+1), timeframe="4h")
    result = signals_generate(
        pairs=["USD/CHF", "AUD/USD", "EUR/USD", "NZD/USD"], timeframe="1h"
    )
    assert result.generated == []
    assert result.skipped == [
        {"pair": "USD/CHF", "reason": "no setup"},
        {"pair": "AUD/USD", "reason": "not enough candles"},
        {"pair": "EUR/USD", "reason": "no market data"},
        {"pair": "NZD/USD", "reason": "no market data"},
    ]


def test_generation_on_real_eurusd_matches_talib(market_data):
    with market_data.open() as handle:
        rows = list(csv.reader(handle))[1:]
    rows = rows[:2600]
    high = np.array([float(r[2]) for r in rows])
    low = np.array([float(r[3]) for r in rows])
    close = np.array([float(r[4]) for r in rows])
    opens = np.array([float(r[1]) for r in rows])
    stamps = [datetime.fromisoformat(r[0]).replace(tzinfo=UTC) for r in rows]
    candles_create("EUR/USD", high, low, close, open_=opens, timestamps=stamps)
    result = signals_generate(pairs=["EUR/USD"], timeframe="1h")
    window = stored_window("EUR/USD", 500)
    if result.generated:
        assert_matches_talib(result.generated[0], *window)
    else:
        assert result.skipped == [{"pair": "EUR/USD", "reason": "no setup"}]
    # Whichever the answer, the stored window is the real data's last 500 bars.
    assert np.array_equal(window[2], close[-500:])


def test_generate_endpoint_and_its_alias(staff_client):
    candles_create("EUR/USD", *wave_trend(+1))
    candles_create("GBP/USD", *wave_trend(-1))
    response = staff_client.post(
        "/api/signals/generate/",
        {"pairs": ["EUR/USD"], "timeframe": "1h"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"generated", "skipped", "duration_ms"}
    assert body["generated"][0]["pair"] == "EUR/USD"
    assert CONTRACT_KEYS <= set(body["generated"][0]["indicators"])
    alias = staff_client.post(
        "/api/signals/enhanced/generate",
        {"pairs": ["EUR/USD", "GBP/USD"]},
        format="json",
    )
    assert alias.status_code == 200
    assert alias.json()["skipped"] == [
        {"pair": "EUR/USD", "reason": "already generated"}
    ]
    assert [s["pair"] for s in alias.json()["generated"]] == ["GBP/USD"]


def test_generate_uses_the_default_pairs_and_timeframe(staff_client, settings):
    settings.SIGNAL_PAIRS = ["EUR/USD", "BTC/USDT"]
    settings.SIGNAL_TIMEFRAME = "4h"
    candles_create("EUR/USD", *wave_trend(+1), timeframe="4h")
    body = staff_client.post("/api/signals/generate/", {}, format="json").json()
    assert [s["timeframe"] for s in body["generated"]] == ["4h"]
    assert body["skipped"] == [{"pair": "BTC/USDT", "reason": "no market data"}]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"pairs": ["eurusd"]}, "pairs"),
        ({"pairs": []}, "pairs"),
        ({"pairs": "EUR/USD"}, "pairs"),
        ({"timeframe": "2h"}, "timeframe"),
        ({"pairs": [1]}, "pairs"),
    ],
)
def test_generate_rejects_bad_input(staff_client, body, field):
    for path in ("/api/signals/generate/", "/api/signals/enhanced/generate"):
        response = staff_client.post(path, body, format="json")
        assert response.status_code == 400 and field in response.json()


def test_generate_needs_permission(api_client, user_client):
    assert (
        api_client.post("/api/signals/generate/", {}, format="json").status_code == 401
    )
    assert (
        user_client.post("/api/signals/generate/", {}, format="json").status_code == 403
    )


def test_generate_signals_command(capsys):
    candles_create("EUR/USD", *wave_trend(+1))
    call_command("generate_signals", "--pairs", "EUR/USD,GBP/USD", "--timeframe", "1h")
    out = capsys.readouterr().out
    assert "EUR/USD" in out and "no market data" in out
    assert Signal.objects.count() == 1


def test_generation_reads_candles_in_one_query(django_assert_max_num_queries):
    for n, pair in enumerate(["EUR/USD", "GBP/USD", "AUD/USD", "NZD/USD"]):
        candles_create(pair, *wave_trend(1 if n % 2 else -1))
    # One read of every window, one existence check, one insert (+ savepoint),
    # one upsert of the stats rollup, the events' two statements (PostgreSQL: the
    # log's lock, the ids, the COPY; SQLite: the insert, their JSON), and one read
    # of the calibration a strategy's signals on one candle use (here one
    # strategy, one candle).
    log = 3 if connection.vendor == "postgresql" else 2
    with django_assert_max_num_queries(7 + log):
        result = signals_generate(
            pairs=["EUR/USD", "GBP/USD", "AUD/USD", "NZD/USD"], timeframe="1h"
        )
    assert len(result.generated) == 4
    assert len({(s.strategy, s.timestamp) for s in result.generated}) == 1
    assert connection.vendor in ("sqlite", "postgresql")


def test_the_publish_gate_stops_a_strategy_whose_walk_forward_lacks_skill(settings):
    from signals.generation import publish_gated
    from signals.models import Backtest

    assert publish_gated("1h") == set()  # off by default
    settings.PUBLISH_MIN_SKILL = "0"
    settings.PUBLISH_MIN_EXPECTANCY_R = "0.05"
    for name, skill, expectancy in [
        ("trend_momentum", -0.1, 0.2),
        ("breakout", 0.02, 0.01),
        ("mean_reversion", 0.01, 0.1),
    ]:
        Backtest.objects.create(
            pair="EUR/USD",
            timeframe="1h",
            strategy=name,
            status="done",
            report={
                "overall": {
                    "expectancy_r": expectancy,
                    "calibration": {"brier_skill_score": skill},
                }
            },
        )
    assert publish_gated("1h") == {"trend_momentum", "breakout"}
    assert publish_gated("4h") == set()  # never backtested there: published
