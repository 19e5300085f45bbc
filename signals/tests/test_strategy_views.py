"""GET /api/strategies/: each strategy's record, checked against the definitions
computed in plain Python."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signals.calibrations import calibration_refit
from signals.models import Backtest
from signals.strategies import REGISTRY
from signals.tests.factories import START, SignalFactory

pytestmark = pytest.mark.django_db
KEYS = {
    "name",
    "description",
    "parameters",
    "timeframes",
    "enabled",
    "live",
    "walk_forward",
    "calibration",
}
RECORD = {
    "signals",
    "wins",
    "losses",
    "win_rate",
    "expectancy_r",
    "profit_factor",
    "brier_score",
    "base_rate_brier",
    "brier_skill_score",
    "calibration_error",
    "buckets",
}


def _signals(name: str, count: int, seed: int) -> list:
    rng = random.Random(seed)
    made = []
    for n in range(count):
        outcome = rng.choice(["win", "loss", "loss", "pending", "breakeven"])
        entry, stop = Decimal("1.10000"), Decimal("1.09500")
        exit_price = {
            "win": Decimal("1.11000"),
            "loss": stop,
            "breakeven": entry,
            "pending": None,
        }[outcome]
        made.append(
            SignalFactory(
                strategy=name,
                timestamp=START + timedelta(hours=n),
                confidence=Decimal(rng.randint(0, 10000)) / 100,
                score=Decimal(60),
                status="active" if outcome == "pending" else "closed",
                outcome=outcome,
                exit_price=exit_price,
                pips=None if exit_price is None else (exit_price - entry) * 10000,
                closed_at=None
                if exit_price is None
                else START + timedelta(hours=n + 2),
            )
        )
    return made


def _reference(signals: list) -> dict:
    decided = [s for s in signals if s.outcome in ("win", "loss")]
    wins = sum(s.outcome == "win" for s in decided)
    resolved = [s for s in signals if s.exit_price is not None]
    r = [
        float((s.exit_price - s.entry_price) / (s.entry_price - s.stop_loss))
        for s in resolved
    ]
    gained = sum(float(s.pips) for s in resolved if s.pips > 0)
    lost = -sum(float(s.pips) for s in resolved if s.pips < 0)
    brier = sum(
        (float(s.confidence) / 100 - (s.outcome == "win")) ** 2 for s in decided
    ) / len(decided)
    p = wins / len(decided)
    ece = 0.0
    for b in range(10):
        inside = [
            s
            for s in decided
            if b * 10 <= s.confidence and (s.confidence < b * 10 + 10 or b == 9)
        ]
        if inside:
            mean = sum(float(s.confidence) for s in inside) / len(inside)
            rate = sum(s.outcome == "win" for s in inside) / len(inside)
            ece += len(inside) / len(decided) * abs(mean - 100 * rate)
    return {
        "signals": len(signals),
        "wins": wins,
        "losses": len(decided) - wins,
        "win_rate": p,
        "expectancy_r": sum(r) / len(r),
        "profit_factor": gained / lost,
        "brier_score": brier,
        "base_rate_brier": p * (1 - p),
        "brier_skill_score": 1 - brier / (p * (1 - p)),
        "calibration_error": ece,
    }


def test_the_live_record_equals_the_definitions(api_client):
    made = _signals("breakout", 80, seed=5)
    _signals("manual", 5, seed=6)  # not a registered strategy: in no record
    body = api_client.get("/api/strategies/breakout/").json()
    assert set(body) == KEYS and set(body["live"]) == RECORD
    expected = _reference(made)
    for key, value in expected.items():
        assert body["live"][key] == pytest.approx(value, rel=1e-9), key
    assert sum(b["signals"] for b in body["live"]["buckets"]) == (
        expected["wins"] + expected["losses"]
    )
    assert body["walk_forward"] is None and body["calibration"] is None


def test_the_list_has_every_strategy_sorted_in_constant_queries(api_client):
    with CaptureQueriesContext(connection) as empty:
        body = api_client.get("/api/strategies/").json()
    assert [s["name"] for s in body["results"]] == sorted(REGISTRY)
    assert all(s["live"]["signals"] == 0 for s in body["results"])
    assert all(s["enabled"] and s["timeframes"] == ["1h"] for s in body["results"])
    for name in REGISTRY:
        _signals(name, 40, seed=len(name))
    calibration_refit(strategy="breakout", timeframe="1h")
    Backtest.objects.create(
        pair="EUR/USD",
        timeframe="1h",
        strategy="breakout",
        status="done",
        report={
            "overall": {"signals": 3, "wins": 1, "losses": 2, "win_rate": 1 / 3},
            "folds": [{"from": "2017-01-01T00:00:00Z", "to": "2017-02-01T00:00:00Z"}],
        },
    )
    with CaptureQueriesContext(connection) as full:
        body = api_client.get("/api/strategies/").json()
    assert len(full) == len(empty) <= 1 + 2 * len(REGISTRY)
    breakout = body["results"][0]
    assert breakout["calibration"]["count"] > 0
    assert breakout["walk_forward"]["signals"] == 3
    assert breakout["walk_forward"]["from"] == "2017-01-01T00:00:00Z"


def test_an_unknown_strategy_is_404(api_client, settings):
    assert api_client.get("/api/strategies/nope/").status_code == 404
    settings.SIGNAL_STRATEGIES = ["breakout@4h"]
    body = api_client.get("/api/strategies/trend_momentum/").json()
    assert body["enabled"] is False and body["timeframes"] == []
