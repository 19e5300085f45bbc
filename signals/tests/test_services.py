"""Writes to signals (signals/services.py): all or nothing, derived values checked."""

from decimal import Decimal

import pytest

from signals.models import Signal
from signals.services import (
    BulkError,
    signal_errors,
    signals_bulk_create,
    signals_bulk_update,
)
from signals.tests.factories import START, SignalFactory

pytestmark = pytest.mark.django_db


def fields(**overrides: object) -> dict:
    base = {
        "pair": "EUR/USD",
        "timeframe": "1h",
        "direction": "buy",
        "entry_price": Decimal("1.1"),
        "stop_loss": Decimal("1.095"),
        "take_profit": Decimal("1.11"),
        "confidence": Decimal("70"),
        "timestamp": START,
    }
    return base | overrides


def test_bulk_create_derives_risk_reward_and_keeps_the_input_order():
    created = signals_bulk_create(
        items=[fields(), fields(pair="GBP/USD", take_profit=Decimal("1.12"))]
    )
    assert [s.pair for s in created] == ["EUR/USD", "GBP/USD"]
    assert [s.risk_reward for s in created] == [Decimal("2"), Decimal("4")]


def test_bulk_create_writes_nothing_when_a_key_repeats():
    with pytest.raises(BulkError) as error:
        signals_bulk_create(items=[fields(), fields(), fields(pair="AUD/USD")])
    assert set(error.value.errors) == {"1"}
    assert not Signal.objects.exists()


def test_an_unstorable_item_is_reported_by_index_before_anything_is_written():
    with pytest.raises(BulkError) as error:
        signals_bulk_create(
            items=[fields(), fields(pair="X/Y", indicators={"k": "a\x00"})]
        )
    assert set(error.value.errors) == {"1"}
    assert set(error.value.errors["1"]) == {"indicators"}
    assert not Signal.objects.exists()


def test_signal_errors_name_the_inputs_of_an_overflowing_derived_value():
    signal = Signal(
        **fields(stop_loss=Decimal("1.09999999"), take_profit=Decimal("9999"))
    )
    signal.risk_reward = (signal.take_profit - signal.entry_price) / (
        signal.entry_price - signal.stop_loss
    )
    assert set(signal_errors(signal)) == {"stop_loss", "take_profit"}
    signal.risk_reward, signal.pips = Decimal(2), Decimal("1e13")
    assert set(signal_errors(signal)) == {"exit_price"}


def test_bulk_update_rolls_back_every_change_when_one_is_unstorable():
    first, second = SignalFactory(), SignalFactory()
    with pytest.raises(BulkError) as error:
        signals_bulk_update(
            changes=[
                (first.id, {"confidence": Decimal(80)}),
                (second.id, {"exit_price": Decimal("999999999999")}),
            ]
        )
    assert set(error.value.errors) == {"1"}
    first.refresh_from_db()
    assert first.confidence != Decimal(80)
