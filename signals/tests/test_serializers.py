"""Input checks that need more than one field (signals/serializers.py)."""

from decimal import Decimal

import pytest

from signals.serializers import SignalBulkUpdateSerializer, SignalSerializer
from signals.tests.factories import SignalFactory, signal_payload

pytestmark = pytest.mark.django_db


def test_levels_on_the_wrong_side_of_entry_name_stop_loss():
    body = signal_payload(direction="sell")  # a buy's levels
    serializer = SignalSerializer(data=body)
    assert not serializer.is_valid()
    assert set(serializer.errors) == {"stop_loss"}


def test_a_partial_change_is_checked_against_the_stored_levels():
    signal = SignalFactory()  # buy: stop 1.095 < entry 1.1 < target 1.11
    serializer = SignalSerializer(signal, data={"stop_loss": "1.2"}, partial=True)
    assert not serializer.is_valid() and set(serializer.errors) == {"stop_loss"}


def test_bulk_update_items_are_checked_one_by_one_with_request_indexes():
    first, second = SignalFactory(), SignalFactory()
    items = [
        {"id": first.id, "confidence": 70},
        "not an object",
        {"id": True},
        {"id": first.id, "confidence": 71},
        {"id": 10**12},
        {"id": second.id, "stop_loss": "2"},
    ]
    body = SignalBulkUpdateSerializer(items)
    assert not body.is_valid()
    assert set(body.errors) == {"1", "2", "3", "4", "5"}
    assert "object" in body.errors["1"]["non_field_errors"][0]
    assert "Repeats item 0" in body.errors["3"]["id"][0]
    assert "No signal" in body.errors["4"]["id"][0]
    assert set(body.errors["5"]) == {"stop_loss"}


def test_bulk_update_changes_carry_validated_values_and_map_back_to_indexes():
    first, second = SignalFactory(), SignalFactory()
    body = SignalBulkUpdateSerializer(
        [{"id": second.id, "confidence": "61.5"}, {"id": first.id, "status": "closed"}]
    )
    assert body.is_valid()
    assert body.changes == [
        (second.id, {"confidence": Decimal("61.50")}),
        (first.id, {"status": "closed"}),
    ]
    # Errors by position in `changes`, as the service reports them, become indexes.
    assert body.request_errors({"1": {"x": ["y"]}}) == {"1": {"x": ["y"]}}
    assert body.request_errors({"0": {"x": ["y"]}}) == {"0": {"x": ["y"]}}
