"""signals_store writes what bulk_create writes (the reference), ids in input order
(signals.storage.writes: one JSON document a batch on PostgreSQL)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, transaction

from signals.models import Signal
from signals.services import signal_derive
from signals.storage.writes import fields_write, signals_store

pytestmark = pytest.mark.django_db
START = datetime(2026, 1, 5, 14, tzinfo=UTC)
INDICATORS = [
    {},
    {"rsi_14": 55.5, "adx_14": 27},
    {"note": 'quote " and \\ backslash', "é": ["ü", None, True, 1e-7]},
    {"nested": {"deep": [1, {"k": "\u2603"}]}, "big": 12345678901234567890},
]


def _signals(strategy: str, count: int) -> list[Signal]:
    signals = []
    for i in range(count):
        buy = i % 2 == 0
        entry = Decimal("1.1") + Decimal(i) / 1000
        step = Decimal("0.00512345678") if buy else Decimal("-0.0051")
        signals.append(
            signal_derive(
                Signal(
                    pair=("EUR/USD", "USD/JPY", "BTC/USDT")[i % 3],
                    timeframe="1h",
                    direction="buy" if buy else "sell",
                    entry_price=entry,
                    stop_loss=entry - step,
                    take_profit=entry + 3 * step,
                    confidence=Decimal("72.35"),
                    timestamp=START + timedelta(hours=i),
                    strategy=strategy,
                    indicators=INDICATORS[i % len(INDICATORS)],
                    reasoning="" if i % 3 else "a reason, with ünïcode",
                    status="closed" if i % 5 == 0 else "active",
                    exit_price=entry + step if i % 5 == 0 else None,
                    closed_at=START + timedelta(days=1) if i % 5 == 0 else None,
                )
            )
        )
    return signals


def _stored(strategy: str) -> list[dict]:
    rows = Signal.objects.filter(strategy=strategy).order_by("id").values()
    skip = {"id", "strategy", "created_at", "updated_at"}
    return [{k: v for k, v in row.items() if k not in skip} for row in rows]


def test_stored_rows_equal_those_bulk_create_stores():
    Signal.objects.bulk_create(_signals("reference", 23))
    created = signals_store(signals=_signals("stored", 23))
    assert _stored("stored") == _stored("reference")
    ids = [signal.pk for signal in created]
    assert ids == sorted(ids) and len(set(ids)) == 23
    by_id = Signal.objects.in_bulk(ids)
    assert [by_id[pk].timestamp for pk in ids] == [s.timestamp for s in created]
    assert all(not signal._state.adding for signal in created)
    assert created[0].created_at == by_id[ids[0]].created_at


def test_a_taken_key_fails_the_whole_batch():
    signals_store(signals=_signals("taken", 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        signals_store(signals=_signals("taken", 3)[::-1])
    assert Signal.objects.filter(strategy="taken").count() == 1


@pytest.mark.postgresql  # SQLite does not enforce a text column's length
def test_a_value_too_long_for_its_column_is_an_error_not_a_truncation():
    signal = _signals("long", 1)[0]
    signal.pair = "A" * 26
    with pytest.raises(DataError), transaction.atomic():
        signals_store(signals=[signal])
    assert not Signal.objects.filter(strategy="long").exists()


def test_an_update_refuses_a_column_it_may_not_write():
    signal = signals_store(signals=_signals("refused", 1))[0]
    for name in ("id", "created_at"):
        with pytest.raises(ValueError, match=name):
            fields_write(signals=[signal], fields=["pair", name])
    assert fields_write(signals=[signal], fields=["reasoning"]) == [signal.pk]
