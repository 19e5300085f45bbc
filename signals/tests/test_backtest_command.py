"""The backtest command, walk-forward folds and the audits, on real EUR/USD data."""

import json

import numpy as np
import pytest
import talib
from django.core.management import CommandError, call_command

from market.models import Candle
from market.services import candles_import
from signals.backtest import runs
from signals.backtest.folds import fold_bounds, grid_params, grid_parse
from signals.backtest.replay import replay
from signals.backtest.rules import Candles, Setups, trend_momentum
from signals.backtest.runs import BacktestOptions, backtest_report, candles_load
from signals.generation import strategy_params
from signals.models import Signal

pytestmark = pytest.mark.django_db
PAIR = "EUR/USD"
STATS = {
    "signals",
    "wins",
    "losses",
    "expired",
    "win_rate",
    "expectancy_r",
    "profit_factor",
    "total_pips",
    "max_drawdown_pips",
    "brier_score",
    "calibration",
}
TRADE_KEYS = {
    "timestamp",
    "direction",
    "entry_price",
    "stop_loss",
    "take_profit",
    "confidence",
    "score",
    "status",
    "outcome",
    "exit_price",
    "pips",
    "r_multiple",
    "closed_at",
    "fold",
}
GRID = "min_adx=15,25;risk_reward=1.5,2.5"


@pytest.fixture
def eurusd(market_data):  # type: ignore[no-untyped-def]
    candles_import(path=market_data, pair=PAIR, timeframe="1h")


def test_command_writes_the_contract_report_and_a_page_that_needs_no_network(
    eurusd, tmp_path, capsys
):
    call_command(
        "backtest",
        "--pair",
        PAIR,
        "--timeframe",
        "1h",
        "--json",
        str(tmp_path / "r.json"),
        "--html",
        str(tmp_path / "r.html"),
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert set(report) == {
        "strategy",
        "overall",
        "folds",
        "trades",
        "lookahead",
        "warmup",
    }
    assert report["strategy"] == "trend_momentum"
    assert STATS <= set(report["overall"])
    assert len(report["folds"]) == 5
    for fold in report["folds"]:
        assert STATS | {"from", "to", "params"} <= set(fold)
    assert report["trades"] and all(set(t) == TRADE_KEYS for t in report["trades"])
    assert sum(f["signals"] for f in report["folds"]) == report["overall"]["signals"]
    assert report["lookahead"] == {"checked": len(report["trades"]), "mismatches": 0}
    assert set(report["warmup"]) >= {"ema_50", "adx_14", "macd_hist"}
    assert Signal.objects.count() == 0
    page = (tmp_path / "r.html").read_text()
    assert "LightweightCharts" in page and "createOptionsChart" in page
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "%" in capsys.readouterr().err  # progress


@pytest.mark.parametrize(
    "args, option",
    [
        (["--pair", "eurusd"], "--pair"),
        (["--timeframe", "2h"], "--timeframe"),
        (["--folds", "0"], "--folds"),
        (["--since", "yesterday"], "--since"),
        (["--since", "2018-01-01", "--until", "2017-01-01"], "--until"),
        (["--optimize", "min_adx=x"], "--optimize"),
        (["--json", "/nonexistent-dir/r.json"], "--json"),
    ],
)
def test_bad_options_are_a_command_error_naming_the_option(args, option):
    base = {"--pair": PAIR, "--timeframe": "1h"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError, match=f"^{option}"):
        call_command("backtest", *[x for kv in base.items() for x in kv])


def test_each_fold_picks_the_best_expectancy_on_the_candles_before_it(eurusd, settings):
    options = BacktestOptions(pair=PAIR, timeframe="1h", folds=3, optimize=GRID)
    report = backtest_report(options=options)
    series = candles_load(PAIR, "1h", None)
    sets = grid_params(grid_parse(GRID), strategy_params())
    bounds = fold_bounds(0, len(series.rows), 3, True)
    for fold, (lo, _) in zip(report["folds"], bounds, strict=True):
        expectancy = []
        for _, params in sets:
            trades = replay(
                series,
                pair=PAIR,
                timeframe="1h",
                params=params,
                lookback=settings.SIGNAL_LOOKBACK,
                expiry_bars=settings.SIGNAL_EXPIRY_BARS,
            )
            known = [
                float(t.r_multiple)
                for t in trades
                if t.index < lo and t.exit_index is not None and t.exit_index < lo
            ]
            expectancy.append(sum(known) / len(known))
        best = max(range(len(sets)), key=lambda k: (expectancy[k], -k))
        assert fold["params"] == sets[best][0]
        assert fold["in_sample"]["expectancy_r"] == pytest.approx(expectancy[best])
        assert fold["expectancy_r_gap"] == pytest.approx(
            expectancy[best] - fold["expectancy_r"]
        )


def test_a_folds_choice_does_not_change_when_its_own_candles_change(eurusd):
    options = BacktestOptions(pair=PAIR, timeframe="1h", folds=3, optimize=GRID)
    before = backtest_report(options=options)["folds"]
    last_start = Candle.objects.get(timestamp=before[-1]["from"].replace("Z", "+00:00"))
    later = Candle.objects.filter(timestamp__gte=last_start.timestamp)
    for candle in later:
        candle.high, candle.low = candle.high * 2 - candle.low, candle.low
        candle.save()
    after = backtest_report(options=options)["folds"]
    assert [f["params"] for f in after] == [f["params"] for f in before]
    assert [f["in_sample"] for f in after] == [f["in_sample"] for f in before]


def peeking(candles: Candles, params, lookback: int, cache) -> Setups:  # type: ignore[no-untyped-def]
    """A leaky strategy: buys when the next candle closes higher."""
    n = len(candles)
    up = np.zeros(n, dtype=np.int8)
    up[:-1] = candles.close[1:] > candles.close[:-1] + 5e-4
    c = candles.close
    return Setups(up, np.where(up, 60.0, np.nan), c - 2e-3, c + 4e-3)


def test_the_lookahead_audit_catches_a_strategy_that_reads_the_next_candle(eurusd):
    options = BacktestOptions(pair=PAIR, timeframe="1h", folds=2)
    report = backtest_report(options=options, rules=peeking)
    assert report["lookahead"]["checked"] > 100
    assert report["lookahead"]["mismatches"] == report["lookahead"]["checked"]
    assert runs.lookahead_failure(report)
    honest = backtest_report(options=options, rules=trend_momentum)
    assert honest["lookahead"]["mismatches"] == 0
    assert runs.lookahead_failure(honest) is None


def test_warmup_audit_is_the_largest_change_from_a_window_to_one_twice_as_long(
    market_data, settings
):
    settings.SIGNAL_LOOKBACK = 80
    candles_import(path=market_data, pair=PAIR, timeframe="1h")
    Candle.objects.filter(timestamp__gt="2017-06-01T00:00:00Z").delete()
    report = backtest_report(options=BacktestOptions(pair=PAIR, timeframe="1h"))
    close = np.array(candles_load(PAIR, "1h", None).prices[:, 3])
    worst = {"ema_50": 0.0, "rsi_14": 0.0}
    for i in range(159, len(close)):
        short, long = close[i - 79 : i + 1], close[i - 159 : i + 1]
        for key, fn in (
            ("ema_50", lambda x: talib.EMA(x, 50)),
            ("rsi_14", lambda x: talib.RSI(x, 14)),
        ):
            a, b = fn(short)[-1], fn(long)[-1]
            worst[key] = max(worst[key], abs(a - b) / abs(b))
    for key, value in worst.items():
        assert report["warmup"][key] == pytest.approx(value, rel=1e-6), key
    assert worst["ema_50"] > 1e-4  # 80 candles are not enough warm-up for EMA50


def test_command_replays_the_strategy_asked_for(eurusd, tmp_path, capsys):
    call_command(
        "backtest",
        "--pair",
        PAIR,
        "--timeframe",
        "1h",
        "--strategy",
        "breakout",
        "--folds",
        "2",
        "--json",
        str(tmp_path / "r.json"),
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["strategy"] == "breakout" and report["overall"]["signals"] > 0
    assert report["lookahead"]["mismatches"] == 0
