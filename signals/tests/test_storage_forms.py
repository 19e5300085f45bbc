"""The fast forms give the JSON values DRF's serializers give, on random signals."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from api.renderers import FastJSONRenderer
from signals.models import Signal
from signals.serializers import SignalListSerializer, SignalSerializer
from signals.storage.forms import (
    DETAIL_FIELDS,
    detail_form,
    detail_forms,
    detail_forms_of_rows,
    detail_row,
    minimal_forms,
)
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12
)


def _decimal(digits: int, places: int, low: str = "0") -> st.SearchStrategy:
    high = Decimal(10) ** (digits - places) - Decimal(1).scaleb(-places)
    return st.decimals(min_value=Decimal(low), max_value=high, places=places)


IN_UTC = st.just(UTC)


def _instant(zone: st.SearchStrategy = IN_UTC) -> st.SearchStrategy:
    return st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=zone
    )


JSON_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False),
    TEXT,
)


@st.composite
def signal_values(draw: st.DrawFn, *, zone: st.SearchStrategy = IN_UTC) -> dict:
    """Column values a stored signal can hold (levels fit the direction)."""
    prices = sorted(
        draw(st.sets(_decimal(14, 8, "0.00000001"), min_size=3, max_size=3))
    )
    direction = draw(st.sampled_from(["buy", "sell"]))
    stop, entry, take = prices if direction == "buy" else prices[::-1]
    pips = _decimal(11, 4, "-9999999")
    return {
        "pair": draw(st.sampled_from(["EUR/USD", "USD/JPY", "BTC/USDT"])),
        "timeframe": draw(st.sampled_from(["1m", "1h", "1d"])),
        "direction": direction,
        "entry_price": entry,
        "stop_loss": stop,
        "take_profit": take,
        "confidence": draw(_decimal(5, 2).filter(lambda v: v <= 100)),
        "status": draw(st.sampled_from(["active", "closed", "expired"])),
        "outcome": draw(st.sampled_from(["pending", "win", "loss"])),
        "timestamp": draw(_instant(zone)),
        "risk_reward": draw(_decimal(8, 4)),
        "strategy": draw(TEXT),
        "indicators": draw(st.dictionaries(TEXT, JSON_VALUE, max_size=4)),
        "reasoning": draw(TEXT),
        "exit_price": draw(st.none() | _decimal(14, 8, "0.00000001")),
        "pips": draw(st.none() | pips),
        "mae_pips": draw(st.none() | pips),
        "mfe_pips": draw(st.none() | pips),
        "closed_at": draw(st.none() | _instant(zone)),
        "score": draw(st.none() | _decimal(5, 2).filter(lambda v: v <= 100)),
        "calibration_id": None,  # a row of its own: see test_calibration_*
    }


def _drf(data: object) -> object:
    """What DRF's JSONRenderer sends, read back."""
    return json.loads(JSONRenderer().render(data))


def _fast(data: object) -> object:
    return json.loads(FastJSONRenderer().render(data))


@EXAMPLES
@given(values=st.lists(signal_values(), min_size=1, max_size=3))
def test_stored_signals_render_as_the_serializers_render_them(values):
    with transaction.atomic():  # each example on an empty table
        created = [
            SignalFactory(**{**item, "strategy": f"{n}{item['strategy']}"})
            for n, item in enumerate(values)
        ]
        queryset = Signal.objects.filter(pk__in=[s.pk for s in created])
        listed = SignalListSerializer(queryset, many=True).data
        assert _fast(minimal_forms(queryset.for_list())) == _drf(listed)
        # The browsable API renders the same data with DRF's encoder.
        assert _drf(minimal_forms(queryset.for_list())) == _drf(listed)
        for signal in queryset:
            expected = _drf(SignalSerializer(signal).data)
            form = _fast(detail_form(detail_row(signal.pk)))
            assert form == expected and list(form) == list(DETAIL_FIELDS)
        transaction.set_rollback(True)


def _offsets() -> st.SearchStrategy:
    return st.builds(
        lambda minutes: timezone(timedelta(minutes=minutes)),
        st.integers(-14 * 60, 14 * 60),
    )


def _stored_as_events_store_it(data: object) -> object:
    """The event log's JSON column encodes payloads with DRF's encoder."""
    return json.loads(json.dumps(data, cls=JSONEncoder))


@EXAMPLES
@given(
    values=signal_values(zone=_offsets()),
    extra_places=st.integers(0, 6),
    stamps=st.tuples(_instant(_offsets()), _instant(_offsets())),
)
def test_payloads_of_unsaved_values_equal_the_serializers(values, extra_places, stamps):
    """Values about to be written (derived pips past the column's places, times in
    any offset) give the payload SignalSerializer gave the event log."""
    if values["pips"] is not None:
        values["pips"] += Decimal(7).scaleb(-4 - extra_places)
    values["created_at"], values["updated_at"] = stamps
    values["id"] = 12345
    signal = Signal(**values)
    expected = _stored_as_events_store_it(SignalSerializer(signal).data)
    assert _stored_as_events_store_it(detail_forms([signal])[0]) == expected
    assert _stored_as_events_store_it(detail_forms_of_rows([values])[0]) == expected
    assert _fast(detail_forms([signal])[0]) == expected


def test_a_missing_or_out_of_range_id_has_no_row():
    assert detail_row(1) is None
    assert detail_row(2**63) is None
    assert detail_row(0) is None


def test_the_reads_keep_content_negotiation(api_client):
    signal = SignalFactory()
    for path in ("/api/signals/", f"/api/signals/{signal.pk}/", "/api/signals/feed/"):
        html = api_client.get(path, HTTP_ACCEPT="text/html")
        assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
        indented = api_client.get(path, HTTP_ACCEPT="application/json; indent=2")
        assert indented.status_code == 200 and b'\n  "' in indented.content
        assert json.loads(indented.content) == api_client.get(path).json()


def test_a_missing_signal_is_the_same_404(api_client):
    response = api_client.get("/api/signals/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Signal matches the given query."}
