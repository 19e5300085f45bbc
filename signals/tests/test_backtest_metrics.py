"""Report statistics against plain-Python implementations of their definitions."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from signals.backtest.folds import best_index, fold_bounds, grid_params, grid_parse
from signals.backtest.metrics import Trade, summary
from signals.strategies.trend_momentum import DEFAULT_PARAMS

START = datetime(2026, 1, 5, tzinfo=UTC)


def random_trades(seed: int, n: int = 300) -> list[Trade]:
    rng = random.Random(seed)
    trades = []
    for i in range(n):
        status = rng.choice(["closed", "closed", "expired", "active"])
        pips = None if status == "active" else Decimal(rng.randint(-400, 600)) / 10
        if status == "closed":
            outcome = "win" if pips > 0 else "loss"
        elif status == "expired":
            outcome = "win" if pips > 0 else "loss" if pips < 0 else "breakeven"
        else:
            outcome = "pending"
        trades.append(
            Trade(
                index=i,
                timestamp=START + timedelta(hours=i),
                direction="buy",
                entry_price=Decimal("1.1"),
                stop_loss=Decimal("1.099"),
                take_profit=Decimal("1.102"),
                confidence=Decimal(rng.randint(5000, 10000)) / 100,
                status=status,
                outcome=outcome,
                exit_price=None,
                pips=pips,
                r_multiple=None if pips is None else pips / 10,
                closed_at=None
                if pips is None
                else START + timedelta(hours=i + rng.randint(1, 60)),
                exit_index=None,
            )
        )
    return trades


def reference(trades: list[Trade]) -> dict:
    """The definitions, written out one by one."""
    wins = [t for t in trades if t.outcome == "win"]
    losses = [t for t in trades if t.outcome == "loss"]
    done = [t for t in trades if t.status != "active"]
    r = [float(t.r_multiple) for t in done]
    gross_win = sum(float(t.pips) for t in done if t.pips > 0)
    gross_loss = sum(-float(t.pips) for t in done if t.pips < 0)
    worst, peak, equity = 0.0, 0.0, 0.0
    for t in sorted(done, key=lambda t: (t.closed_at, t.timestamp)):
        equity += float(t.pips)
        if equity > peak:
            peak = equity
        if peak - equity > worst:
            worst = peak - equity
    decided = wins + losses
    brier = sum(
        (float(t.confidence) / 100 - (t.outcome == "win")) ** 2 for t in decided
    ) / len(decided)
    return {
        "signals": len(trades),
        "wins": len(wins),
        "losses": len(losses),
        "expired": len([t for t in trades if t.status == "expired"]),
        "win_rate": len(wins) / len(decided),
        "expectancy_r": sum(r) / len(r),
        "profit_factor": gross_win / gross_loss,
        "total_pips": sum(float(t.pips) for t in done),
        "max_drawdown_pips": worst,
        "brier_score": brier,
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summary_matches_the_definitions(seed):
    trades = random_trades(seed)
    got, want = summary(trades), reference(trades)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-12), key


def test_calibration_buckets_count_decided_trades_by_confidence():
    trades = random_trades(4)
    buckets = summary(trades)["calibration"]["buckets"]
    for bucket in buckets:
        low = bucket["min_confidence"]
        inside = [
            t
            for t in trades
            if t.outcome in ("win", "loss")
            and low <= t.confidence < low + 10 + (low == 90)
        ]
        assert bucket["signals"] == len(inside)
        assert bucket["wins"] == len([t for t in inside if t.outcome == "win"])
    assert sum(b["signals"] for b in buckets) == len(
        [t for t in trades if t.outcome in ("win", "loss")]
    )


def test_summary_of_no_trades_has_nulls_not_errors():
    empty = summary([])
    assert empty["signals"] == 0 and empty["max_drawdown_pips"] == 0
    assert empty["win_rate"] is None and empty["expectancy_r"] is None
    assert empty["profit_factor"] is None and empty["brier_score"] is None


def test_folds_cover_the_period_in_equal_runs_and_optimising_keeps_a_training_run():
    assert fold_bounds(10, 110, 5, False) == [
        (10, 30),
        (30, 50),
        (50, 70),
        (70, 90),
        (90, 110),
    ]
    assert fold_bounds(0, 60, 2, True) == [(20, 40), (40, 60)]


def test_grid_parse_types_values_and_names_what_is_wrong():
    assert grid_parse("min_adx=15,20; ema_fast=10,20") == {
        "min_adx": [15.0, 20.0],
        "ema_fast": [10, 20],
    }
    for text, problem in [
        ("nope=1", "unknown strategy parameter"),
        ("ema_fast=1.5", "takes integers"),
        ("min_adx", "is not name=value"),
        ("min_adx=1;min_adx=2", "twice"),
        ("", "no parameter"),
    ]:
        with pytest.raises(ValueError, match=problem):
            grid_parse(text)


def test_grid_leaves_out_invalid_combinations_and_refuses_when_none_is_left():
    combos = grid_params({"ema_fast": [20, 60], "ema_slow": [50, 100]}, DEFAULT_PARAMS)
    assert [c for c, _ in combos] == [
        {"ema_fast": 20, "ema_slow": 50},
        {"ema_fast": 20, "ema_slow": 100},
        {"ema_fast": 60, "ema_slow": 100},
    ]
    with pytest.raises(ValueError, match="no combination"):
        grid_params({"ema_fast": [60]}, DEFAULT_PARAMS)


def test_best_index_prefers_the_first_of_equal_scores_and_ignores_none():
    assert best_index([None, 0.2, 0.5, 0.5, None]) == 2
    assert best_index([None, None]) == 0
