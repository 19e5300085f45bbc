"""The strategy registry and the built-in strategies (pure: arrays in, setups out)."""

import dataclasses

import numpy as np
import pytest

from conftest import market_data_path
from signals.strategies import (
    NAME_PATTERN,
    REGISTRY,
    Selection,
    selection_parse,
    strategies_for,
)
from signals.strategies.base import Setup


def _eurusd() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = np.genfromtxt(market_data_path(), delimiter=",", skip_header=1)[:, 1:5]
    return data[:, 1], data[:, 2], data[:, 3]


def test_at_least_three_families_are_registered_with_valid_names():
    assert {"trend_momentum", "mean_reversion", "breakout"} <= set(REGISTRY)
    for info in REGISTRY.values():
        assert NAME_PATTERN.match(info.name) and info.description
        assert dataclasses.asdict(info.default_params)
        module = info.implementation()
        assert module.STRATEGY_NAME == info.name
        assert module.DEFAULT_PARAMS == info.default_params
        assert 0 < info.prior_win_rate() < 1


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_setup_has_levels_on_the_right_side_and_a_score_in_range(name):
    high, low, close = _eurusd()
    module = REGISTRY[name].implementation()
    params = REGISTRY[name].default_params
    assert module.evaluate(high[:5], low[:5], close[:5], params) is None
    found = []
    for end in range(module.min_candles(params), 3000, 7):
        setup = module.evaluate(high[:end], low[:end], close[:end], params)
        if setup is None:
            continue
        assert isinstance(setup, Setup)
        assert 0 <= setup.confidence <= 100
        assert setup.entry == close[end - 1]
        if setup.direction == "buy":
            assert setup.stop_loss < setup.entry < setup.take_profit
        else:
            assert setup.take_profit < setup.entry < setup.stop_loss
        reward = abs(setup.take_profit - setup.entry)
        risk = abs(setup.entry - setup.stop_loss)
        assert reward / risk == pytest.approx(params.risk_reward)
        found.append(setup.direction)
    assert {"buy", "sell"} <= set(found)


def test_breakout_buys_a_close_above_the_previous_channel_only():
    module = REGISTRY["breakout"].implementation()
    n = 60
    rng = np.random.default_rng(7)
    close = 1.0 + np.cumsum(rng.normal(0, 0.001, n))
    close[-1] = close[:-1].max() + 0.01  # far above every earlier high
    high, low = close + 0.0005, close - 0.0005
    setup = module.evaluate(high, low, close, module.DEFAULT_PARAMS)
    if setup is not None:  # ADX may veto; when it does not, it is a buy
        assert setup.direction == "buy"
        assert setup.indicators["donchian_upper_20"] == pytest.approx(
            high[-21:-1].max()
        )


def test_selection_defaults_to_every_built_in_everywhere():
    selection = selection_parse([])
    assert strategies_for(selection, "1h", "EUR/USD") == sorted(REGISTRY)


def test_selection_by_timeframe_and_pair():
    selection = selection_parse(
        ["trend_momentum", "breakout@4h", "mean_reversion@1h:EUR/USD"]
    )
    assert selection[1] == Selection("breakout", "4h", None)
    assert strategies_for(selection, "1h", "EUR/USD") == [
        "mean_reversion",
        "trend_momentum",
    ]
    assert strategies_for(selection, "1h", "GBP/USD") == ["trend_momentum"]
    assert strategies_for(selection, "4h", "GBP/USD") == [
        "breakout",
        "trend_momentum",
    ]


@pytest.mark.parametrize("entry", ["nope", "breakout@", "breakout:", "Breakout"])
def test_selection_rejects_unknown_or_malformed_entries(entry):
    with pytest.raises(ValueError, match="SIGNAL_STRATEGIES"):
        selection_parse([entry])
