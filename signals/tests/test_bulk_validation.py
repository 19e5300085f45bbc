"""The fast bulk-create validation answers as SignalSerializer(many=True) does
(signals/bulk_validation.py): the same validated values, the same errors by index."""

import json
from datetime import UTC, timedelta
from datetime import timezone as offset
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.utils.encoders import JSONEncoder

from signals import bulk_validation
from signals.bulk_validation import NotPlain, bulk_create_validate, plain_item
from signals.serializers import SignalSerializer
from signals.tests.factories import signal_payload

pytestmark = pytest.mark.django_db

ANY_ODD = [None, True, False, 0, 1, -1, 1.5, "", " ", [], {}, [1], {"a": 1}, "x"]
DECIMAL_TEXT = [
    "1.1", " 1.1 ", "1.10000000", "1.123456789", "1e-8", "1E-9", "1E+2", "1e2",
    "0", "-0", "-1", "0.00000001", "0.000000005", "100", "100.00", "100.001",
    "99.99", "99.995", "1_000", "１.5", "NaN", "-Infinity", "inf", "1.2.3",
    "999999999999", "999999999999.99999999", "99999999999.99999999",
    "99999999999.999999999", "1000000000000", "0.1e-7", "1.", ".5", "+2",
    "12345678901234567890", "1" * 1001,
]  # fmt: skip
DECIMAL_NUMBERS = [0, 1, 2, 100, 101, 10**12, 10**30, 1.1, 1e-05, 1e-9, 0.0, -0.0,
                   72.5, 99.999, 1e20, float("inf"), float("nan")]  # fmt: skip
TIMESTAMPS = [
    "2026-01-05T14:00:00Z", "2026-01-05T14:00:00+05:30", "2026-01-05T14:00:00",
    "2026-01-05", "2026-01-05 14:00", "2026-13-05T14:00:00Z", "2026-02-30T00:00Z",
    " 2026-01-05T14:00:00Z", "2026-01-05T14:00:00Z ", "2026-01-05T14:00:00.123456Z",
    "2026-01-05T14:00:00.1234567Z", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00", "2026-01-05T14:00:00-00:00", "20260105T140000Z",
    "2026-W02-1T14:00Z", "2026-01-05T24:00:00Z", "2026-01-05T14:00:00+24:00",
]  # fmt: skip
PAIRS = ["EUR/USD", "USD/JPY", "eur/usd", " EUR/USD", "EUR/USD\n", "A/B", "AB/CD",
         "ABCDEFGHIJKL/ABCDEFGHIJKL", "ABCDEFGHIJKLM/USD", "EURUSD", "EUR\x00/USD",
         "ÉUR/USD", "EUR/USD/GBP"]  # fmt: skip
TEXTS = ["manual", "", " ", "x" * 50, "x" * 51, " x ", " " + "x" * 50, "a\x00",
         "\ud800", "é", "tab\there", "\u2003x\u2003", "\n"]  # fmt: skip
INDICATORS = [{}, {"rsi_14": 55.5}, {"a": "\x00"}, {"\x00": 1}, {"n": [1, "\x00"]},
              {"n": {"deep": [1, {"k": None}]}}, {1: 2}, {"a": Decimal("1.5")}]  # fmt: skip
CHOICES = {
    "timeframe": ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1H", "2h"],
    "direction": ["buy", "sell", "BUY", " buy"],
    "status": ["active", "closed", "expired", "cancelled", "open"],
    "outcome": ["pending", "win", "loss", "breakeven", "draw"],
}


def _decimals() -> st.SearchStrategy:
    generated = st.decimals(
        min_value=Decimal("-1E13"), max_value=Decimal("1E13"), places=10
    )
    return st.one_of(
        st.sampled_from(DECIMAL_TEXT + DECIMAL_NUMBERS),
        generated.map(str),
        st.floats(min_value=-1e13, max_value=1e13),
        st.integers(min_value=-(10**13), max_value=10**13),
    )


def _timestamps() -> st.SearchStrategy:
    zones = st.sampled_from([UTC, offset(timedelta(hours=-7)), None])
    written = st.datetimes(timezones=zones).map(lambda moment: moment.isoformat())
    return st.one_of(st.sampled_from(TIMESTAMPS), written)


VALUES: dict[str, Any] = {
    "pair": st.sampled_from(PAIRS),
    **{name: st.sampled_from(values) for name, values in CHOICES.items()},
    "entry_price": _decimals(),
    "stop_loss": _decimals(),
    "take_profit": _decimals(),
    "confidence": _decimals(),
    "timestamp": _timestamps(),
    "strategy": st.sampled_from(TEXTS),
    "reasoning": st.one_of(st.sampled_from(TEXTS), st.text(max_size=20)),
    "indicators": st.sampled_from(INDICATORS),
    "exit_price": _decimals(),
    "closed_at": _timestamps(),
    "id": st.integers(),
    "risk_reward": st.just("x"),
    "unknown": st.just(1),
}
MISSING = object()


@st.composite
def items(draw: st.DrawFn) -> Any:
    base = dict(
        draw(
            st.sampled_from(
                [
                    signal_payload(),
                    signal_payload(
                        direction="sell", stop_loss="1.105", take_profit="1.09"
                    ),
                    signal_payload(
                        pair="USD/JPY",
                        entry_price=150,
                        stop_loss="149.5",
                        take_profit=151,
                        confidence=100,
                        status="closed",
                        outcome="win",
                        exit_price="151.00000000",
                        closed_at="2026-01-06T00:00:00+01:00",
                        indicators={"rsi_14": 70},
                        reasoning=" why ",
                    ),
                ]
            )
        )
    )
    for name in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=3)):
        value = draw(st.one_of(VALUES[name], st.sampled_from([*ANY_ODD, MISSING])))
        base.pop(name, None)
        if value is not MISSING:
            base[name] = value
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from(ANY_ODD))  # not an object at all
    return base


def _as_drf(body: list) -> tuple[Any, Any]:
    serializer = SignalSerializer(data=body, many=True)
    if serializer.is_valid():
        return _typed(serializer.validated_data), {}
    return [], _json({str(k): v for k, v in serializer.errors.items()})


def _typed(validated: list) -> list:
    """Each value with its type and repr: 1.1 and 1.10000000 differ."""
    return [{k: (type(v), repr(v)) for k, v in item.items()} for item in validated]


def _json(errors: dict) -> Any:
    return json.loads(json.dumps(errors, cls=JSONEncoder))


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=st.lists(items(), min_size=1, max_size=4))
def test_fast_validation_answers_as_the_serializer(body: list) -> None:
    validated, errors = bulk_create_validate(body)
    assert (_typed(validated), _json(errors)) == _as_drf(body)


def test_plain_items_take_the_fast_path() -> None:
    body = [
        signal_payload(),
        signal_payload(confidence="61.5", indicators={"rsi_14": 55.5}),
        signal_payload(direction="sell", stop_loss="1.105", take_profit="1.09"),
    ]
    fast = [plain_item(item, timezone.get_current_timezone()) for item in body]
    assert _typed(fast) == _as_drf(body)[0]


def test_an_item_with_a_writable_field_the_fast_path_does_not_read_is_not_plain(
    monkeypatch,
) -> None:
    monkeypatch.setattr(bulk_validation, "UNREAD_FIELDS", frozenset({"new_field"}))
    zone = timezone.get_current_timezone()
    plain_item(signal_payload(), zone)
    with pytest.raises(NotPlain):
        plain_item(signal_payload(new_field="x"), zone)


def test_errors_keep_request_indexes_around_fast_items() -> None:
    body = [signal_payload(), {"pair": "eur/usd"}, signal_payload(), "x"]
    validated, errors = bulk_create_validate(body)
    assert validated == []
    assert set(errors) == {"1", "3"}
    assert _json(errors) == _as_drf(body)[1]


def test_other_datetime_input_formats_leave_timestamps_to_the_serializer(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DATETIME_INPUT_FORMATS": ["%Y-%m-%d %H:%M"],
    }
    body = [signal_payload(), signal_payload(timestamp="2026-01-05 15:00")]
    validated, errors = bulk_create_validate(body)
    assert (_typed(validated), _json(errors)) == _as_drf(body)
    assert set(errors) == {"0"}
