"""Concurrent writers on PostgreSQL: no duplicates, no 500s, no lost updates."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from rest_framework.test import APIClient

from market.tests.factories import candles_create
from signals.generation import signals_generate
from signals.models import Signal
from signals.outcomes import outcomes_backfill
from signals.tests.factories import SignalFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]
START = datetime(2026, 3, 1, tzinfo=UTC)


def in_thread(fn):  # type: ignore[no-untyped-def]
    """Run fn on its own connection, closed afterwards."""

    def run(*args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


def wave(sign: float, n: int = 300) -> tuple[np.ndarray, ...]:
    t = np.arange(n, dtype=float) - (n - 1)
    close = 1.1 + sign * (2e-4 * t + 2e-3 * np.sin(2 * np.pi * t / 12 + np.pi))
    return close + 5e-4, close - 5e-4, close


def item(hour: int) -> dict:
    return {
        "pair": "EUR/USD",
        "timeframe": "1h",
        "direction": "buy",
        "entry_price": 1.1,
        "stop_loss": 1.09,
        "take_profit": 1.12,
        "confidence": 50,
        "timestamp": (START + timedelta(hours=hour)).isoformat(),
    }


def test_parallel_bulk_creates_with_overlapping_keys_and_generation(staff_user):
    pairs = ["AUD/USD", "NZD/USD"]
    for n, pair in enumerate(pairs):
        candles_create(pair, *wave(1 if n else -1))

    @in_thread
    def bulk(writer: int):  # type: ignore[no-untyped-def]
        client = APIClient()
        client.force_authenticate(staff_user)
        hours = range(writer * 20, writer * 20 + 40)  # half overlaps the next writer
        return client.post(
            "/api/signals/bulk/", [item(h) for h in hours], format="json"
        )

    @in_thread
    def generate(_: int):  # type: ignore[no-untyped-def]
        return signals_generate(pairs=pairs, timeframe="1h")

    with ThreadPoolExecutor(max_workers=12) as pool:
        bulks = [pool.submit(bulk, w) for w in range(8)]
        generations = [pool.submit(generate, g) for g in range(4)]
        responses = [f.result() for f in bulks]
        results = [f.result() for f in generations]

    assert {r.status_code for r in responses} <= {201, 400}
    created_ids = [
        pk for r in responses if r.status_code == 201 for pk in r.json()["ids"]
    ]
    eur = Signal.objects.filter(pair="EUR/USD")
    assert sorted(eur.values_list("id", flat=True)) == sorted(created_ids)
    for r in responses:
        if r.status_code == 201:
            assert r.json()["created"] == 40
        else:
            assert r.json()["errors"]  # all or nothing: the whole list refused
    assert eur.values("timestamp").distinct().count() == eur.count()
    generated = [s.pair for result in results for s in result.generated]
    assert sorted(generated) == sorted(pairs)  # each pair once, whoever won
    assert Signal.objects.filter(pair__in=pairs).count() == 2


def test_bulk_updates_racing_outcome_backfill_lose_nothing(staff_user, settings):
    settings.SIGNAL_EXPIRY_BARS = 2
    signals = [
        SignalFactory(timestamp=START + timedelta(hours=h), strategy="race")
        for h in range(60)
    ]
    highs = [1.1] + [1.2] * 70  # every signal reaches its target on the next candle
    candles_create(
        "EUR/USD", highs, [1.1] * 71, [1.15] * 71, open_=[1.1] * 71, start=START
    )

    @in_thread
    def patch(chunk: int):  # type: ignore[no-untyped-def]
        client = APIClient()
        client.force_authenticate(staff_user)
        body = [{"id": s.pk, "confidence": 90 + chunk} for s in signals[chunk::3]]
        return client.patch("/api/signals/bulk/", body, format="json").status_code

    @in_thread
    def backfill(_: int):  # type: ignore[no-untyped-def]
        return outcomes_backfill(batch_size=7).resolved

    with ThreadPoolExecutor(max_workers=5) as pool:
        patches = [pool.submit(patch, c) for c in range(3)]
        backfills = [pool.submit(backfill, b) for b in range(2)]
        assert [f.result() for f in patches] == [200, 200, 200]
        resolved = sum(f.result() for f in backfills)

    assert resolved == 60  # each signal resolved exactly once between the two runs
    for n, signal in enumerate(
        Signal.objects.filter(strategy="race").order_by("timestamp")
    ):
        assert signal.confidence == Decimal(90 + n % 3)
        assert (signal.status, signal.outcome) == ("closed", "win")
        assert signal.exit_price == Decimal("1.11")
