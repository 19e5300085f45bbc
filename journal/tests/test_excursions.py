"""Excursions of journal trades (journal/excursions.py): a hand-computed trade, the
coverage rule, the finest timeframe, a plain-Python reference over random trades,
exit efficiency in the stats, constant queries, and the backfill command."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from journal.excursions import excursions_compute
from journal.models import JournalEntry
from market.tests.factories import START, candles_create

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def three_candles() -> None:
    # 10:00, 11:00, 12:00 on EUR/USD (pip 0.0001).
    candles_create(
        "EUR/USD",
        high=[1.1010, 1.1050, 1.1040],
        low=[1.0990, 1.0995, 1.1020],
        close=[1.1000, 1.1030, 1.1030],
        start=START + 10 * HOUR,
    )


def trade(user_client, **overrides) -> dict:  # type: ignore[no-untyped-def]
    body = {
        "pair": "EUR/USD",
        "direction": "buy",
        "entry_price": 1.1,
        "stop_loss": 1.098,
        "quantity": 10000,
        "opened_at": (START + timedelta(hours=10, minutes=30)).isoformat(),
        "exit_price": 1.103,
        "closed_at": (START + timedelta(hours=12, minutes=15)).isoformat(),
        **overrides,
    }
    response = user_client.post("/api/journal/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_hand_computed_buy(user_client):
    three_candles()
    entry = trade(user_client)
    # Highest high 1.1050: 50 pips for; lowest low 1.0990: 10 pips against; the
    # risk is 20 pips (stop 1.0980), the trade kept 30.
    assert float(entry["mfe_pips"]) == pytest.approx(50)
    assert float(entry["mae_pips"]) == pytest.approx(10)
    assert entry["mfe_r"] == pytest.approx(2.5)
    assert entry["mae_r"] == pytest.approx(0.5)
    stats = user_client.get("/api/journal/stats/").json()
    assert stats["exit_efficiency"] == pytest.approx(30 / 50)


def test_a_hand_computed_sell_without_a_stop(user_client):
    three_candles()
    entry = trade(
        user_client, direction="sell", entry_price=1.1030, stop_loss=None,
        exit_price=1.1025,
    )  # fmt: skip
    # For a sell the favourable side is the lowest low (1.0990: 40 pips), the
    # adverse the highest high (1.1050: 20 pips); no stop, no R.
    assert float(entry["mfe_pips"]) == pytest.approx(40)
    assert float(entry["mae_pips"]) == pytest.approx(20)
    assert entry["mae_r"] is None and entry["mfe_r"] is None


def test_null_when_the_candles_do_not_cover_the_trade(user_client):
    three_candles()
    late = trade(user_client, closed_at=(START + 13 * HOUR).isoformat())
    early = trade(user_client, opened_at=(START + 9 * HOUR).isoformat())
    other_pair = trade(
        user_client, pair="GBP/USD", entry_price=1.25, stop_loss=1.24,
        exit_price=1.26,
    )  # fmt: skip
    open_trade = trade(user_client, exit_price=None, closed_at=None)
    for entry in (late, early, other_pair, open_trade):
        assert entry["mae_pips"] is None and entry["mfe_pips"] is None
        assert entry["mae_r"] is None
    assert user_client.get("/api/journal/stats/").json()["exit_efficiency"] is None


def test_the_finest_covering_timeframe_is_used(user_client):
    three_candles()  # 1h
    candles_create(  # 4h candles from 08:00 to 16:00, wider
        "EUR/USD", high=[1.1100, 1.1050], low=[1.0900, 1.0950], close=[1.1, 1.1],
        timeframe="4h", start=START + 8 * HOUR,
    )  # fmt: skip
    assert float(trade(user_client)["mfe_pips"]) == pytest.approx(50)  # the 1h
    # Past the 1h candles, but inside the 4h one: the 4h answers.
    entry = trade(user_client, closed_at=(START + 13.5 * HOUR).isoformat())
    assert float(entry["mfe_pips"]) == pytest.approx(100)


def reference(entry: JournalEntry, candles: list[tuple]) -> tuple | None:
    """Plain Python: the candles meeting [opened, closed], coverage, extremes."""
    mine = [
        c for c in candles if c[0] <= entry.closed_at and c[0] + HOUR > entry.opened_at
    ]
    if (
        not mine
        or mine[0][0] > entry.opened_at
        or mine[-1][0] + HOUR <= entry.closed_at
    ):
        return None
    high, low = max(c[1] for c in mine), min(c[2] for c in mine)
    pip = Decimal("0.0001")
    if entry.direction == "buy":
        best, worst = (high - entry.entry_price) / pip, (entry.entry_price - low) / pip
    else:
        best, worst = (entry.entry_price - low) / pip, (high - entry.entry_price) / pip
    return max(worst, -entry.pips, 0), max(best, entry.pips, 0)


def test_random_trades_match_a_plain_python_reference(user):
    from journal.tests.factories import JournalEntryFactory

    rng = random.Random(7)
    closes = [1.1 + rng.uniform(-0.01, 0.01) for _ in range(60)]
    highs = [c + rng.uniform(0, 0.003) for c in closes]
    lows = [c - rng.uniform(0, 0.003) for c in closes]
    # A gap (a closed market) from hour 30 to 35: trades over it are still covered.
    stamps = [START + HOUR * (n if n < 30 else n + 5) for n in range(60)]
    stored = candles_create("EUR/USD", highs, lows, closes, timestamps=stamps)
    candles = [(c.timestamp, c.high, c.low) for c in stored]
    entries = []
    for _ in range(80):
        opened = START + timedelta(minutes=rng.randint(-120, 70 * 60))
        entries.append(
            JournalEntryFactory(
                owner=user,
                direction=rng.choice(["buy", "sell"]),
                entry_price=Decimal(f"{rng.uniform(1.09, 1.11):.5f}"),
                stop_loss=None,
                exit_price=Decimal(f"{rng.uniform(1.09, 1.11):.5f}"),
                opened_at=opened,
                closed_at=opened + timedelta(minutes=rng.randint(1, 20 * 60)),
            )
        )
    found = excursions_compute(JournalEntry.objects.all())
    covered = 0
    for entry in entries:
        expected, got = reference(entry, candles), found.get(entry.id)
        if expected is None:
            assert got is None
            continue
        covered += 1
        assert float(got.mae_pips) == pytest.approx(float(expected[0]), abs=1e-6)
        assert float(got.mfe_pips) == pytest.approx(float(expected[1]), abs=1e-6)
    assert 20 < covered < 80  # both kinds were drawn


def test_a_constant_number_of_queries_whatever_the_entries(user):
    from journal.tests.factories import JournalEntryFactory, closed

    three_candles()
    candles_create(
        "EUR/USD", high=[1.2], low=[1.0], close=[1.1], timeframe="1d", start=START
    )

    def queries(count: int) -> int:
        JournalEntry.objects.all().delete()
        for n in range(count):
            JournalEntryFactory(
                owner=user, **closed(hours=1, opened_at=START + n * HOUR / 4)
            )
        with CaptureQueriesContext(connection) as captured:
            excursions_compute(JournalEntry.objects.all())
        return len(captured)

    assert queries(3) == queries(40)


def test_the_backfill_fills_entries_written_before_their_candles(user_client):
    entry = trade(user_client)
    assert entry["mfe_pips"] is None
    three_candles()
    call_command("recompute_journal", "--excursions", stdout=open("/dev/null", "w"))
    fresh = user_client.get(f"/api/journal/{entry['id']}/").json()
    assert float(fresh["mfe_pips"]) == pytest.approx(50)
