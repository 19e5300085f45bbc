"""POST /api/backtests/ and GET /api/backtests/{id}/."""

import threading

import numpy as np
import pytest

from market.tests.factories import candles_create
from signals.models import Backtest

URL = "/api/backtests/"


def wait_for_run(backtest_id: int) -> None:
    """Join the run's background thread (named after the backtest)."""
    for thread in threading.enumerate():
        if thread.name == f"backtest-{backtest_id}":
            thread.join(timeout=120)


def trending_candles(n: int = 900) -> None:
    rng = np.random.default_rng(3)
    t = np.arange(n, dtype=float)
    close = (
        1.1 + 2e-4 * t / 10 + 2e-3 * np.sin(t / 9) + np.cumsum(rng.normal(0, 4e-4, n))
    )
    candles_create("EUR/USD", close + 6e-4, close - 6e-4, close)


@pytest.mark.django_db
@pytest.mark.parametrize("who, code", [("anonymous", 401), ("user", 403)])
def test_backtests_are_staff_only(who, code, api_client, user_client):
    client = api_client if who == "anonymous" else user_client
    body = {"pair": "EUR/USD", "timeframe": "1h"}
    assert client.post(URL, body, format="json").status_code == code
    backtest = Backtest.objects.create(pair="EUR/USD", timeframe="1h")
    assert client.get(f"{URL}{backtest.pk}/").status_code == code
    assert Backtest.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"timeframe": "1h"}, "pair"),
        ({"pair": "eur-usd", "timeframe": "1h"}, "pair"),
        ({"pair": "EUR/USD", "timeframe": "2h"}, "timeframe"),
        ({"pair": "EUR/USD", "timeframe": "1h", "folds": 0}, "folds"),
        ({"pair": "EUR/USD", "timeframe": "1h", "folds": "many"}, "folds"),
        ({"pair": "EUR/USD", "timeframe": "1h", "since": "soon"}, "since"),
        (
            {
                "pair": "EUR/USD",
                "timeframe": "1h",
                "since": "2026-02-01",
                "until": "2026-01-01",
            },
            "until",
        ),
        ({"pair": "EUR/USD", "timeframe": "1h", "optimize": "bogus=1"}, "optimize"),
        (
            {"pair": "EUR/USD", "timeframe": "1h", "optimize": {"bogus": [1]}},
            "optimize",
        ),
        (
            {"pair": "EUR/USD", "timeframe": "1h", "optimize": {"min_adx": []}},
            "optimize",
        ),
        (
            {"pair": "EUR/USD", "timeframe": "1h", "optimize": {"min_adx": ["x"]}},
            "optimize",
        ),
        ({"pair": "EUR/USD", "timeframe": "1h", "optimize": [1, 2]}, "optimize"),
    ],
)
def test_bad_options_are_a_400_naming_the_field(body, field, staff_client):
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Backtest.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_backtest_is_a_404(staff_client):
    assert staff_client.get(f"{URL}999/").status_code == 404


@pytest.mark.django_db
def test_a_queued_backtest_reads_back_in_one_query(
    staff_client, django_assert_num_queries
):
    backtest = Backtest.objects.create(pair="EUR/USD", timeframe="1h")
    with django_assert_num_queries(1):
        response = staff_client.get(f"{URL}{backtest.pk}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": backtest.pk,
        "status": "queued",
        "progress": 0.0,
        "report": None,
        "error": None,
    }


@pytest.mark.django_db(transaction=True)
def test_a_posted_backtest_runs_in_the_background_to_done(staff_client):
    trending_candles()
    response = staff_client.post(
        URL, {"pair": "EUR/USD", "timeframe": "1h", "folds": 3}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    assert body == {"id": body["id"], "status": "queued"}
    wait_for_run(body["id"])
    result = staff_client.get(f"{URL}{body['id']}/").json()
    assert result["status"] == "done", result["error"]
    assert result["progress"] == 1.0 and result["error"] is None
    assert set(result["report"]) == {
        "strategy",
        "overall",
        "folds",
        "trades",
        "lookahead",
        "warmup",
    }
    assert len(result["report"]["folds"]) == 3
    assert result["report"]["lookahead"]["mismatches"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_backtest_without_candles_fails_with_the_reason(staff_client):
    response = staff_client.post(
        URL, {"pair": "GBP/USD", "timeframe": "1h"}, format="json"
    )
    wait_for_run(response.json()["id"])
    result = staff_client.get(f"{URL}{response.json()['id']}/").json()
    assert result["status"] == "failed"
    assert "too few" in result["error"] and result["report"] is None


@pytest.mark.django_db
def test_the_grid_is_taken_as_the_contracts_object(staff_client, monkeypatch):
    from signals.backtest import services

    monkeypatch.setattr(services, "backtest_enqueue", lambda backtest: None)
    body = {
        "pair": "EUR/USD",
        "timeframe": "1h",
        "optimize": {"atr_stop_multiple": [1.5, 2], "min_adx": [15, 20]},
    }
    response = staff_client.post(URL, body, format="json")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    stored = Backtest.objects.get()
    assert stored.optimize == "atr_stop_multiple=1.5,2;min_adx=15,20"
