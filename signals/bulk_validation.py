"""Validation of a bulk-create body, fast for items of the plain expected shape.

`SignalSerializer(many=True)` spends about 100 µs an item in DRF's field machinery,
a second for 10,000 items. `bulk_create_validate` first reads each item with a
plain function that accepts only what the serializer accepts, giving the same
validated values; every item it does not accept, for whatever reason (an error,
an unusual type, whitespace DRF would trim, a naive timestamp), goes to the
serializer, which gives the real answer. So acceptance and the 400 bodies are the
serializer's by construction: the fast path can only say "valid, and here are the
values", never "invalid". tests/test_bulk_validation.py checks that equivalence on
random items.
"""

import decimal
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from core.validators import float_storable, json_has_nul
from core.vocabulary import PAIR_PATTERN, Timeframe
from market.pricing import levels_error

from .choices import Direction, Outcome, Status
from .serializers import SignalSerializer

TIMEFRAMES = frozenset(Timeframe.values)
DIRECTIONS = frozenset(Direction.values)
STATUSES = frozenset(Status.values)
OUTCOMES = frozenset(Outcome.values)
MAX_DECIMAL_TEXT = serializers.DecimalField.MAX_STRING_LENGTH


@dataclass(frozen=True)
class DecimalRule:
    """A StoredDecimalField's limits as SignalSerializer declares them."""

    digits: int
    places: int
    low: Decimal | None = None
    high: Decimal | None = None

    @cached_property
    def quantum(self) -> Decimal:
        return Decimal(".1") ** self.places

    @cached_property
    def context(self) -> decimal.Context:
        # Precision checked first, quantizing never rounds: only prec matters.
        return decimal.Context(prec=self.digits)

    @cached_property
    def surely_storable(self) -> Decimal:
        """Below this magnitude a float's error cannot reach the column's limit."""
        return Decimal(10) ** (self.digits - self.places - 1)


PRICE = DecimalRule(20, 8, low=Decimal("0.00000001"))
DECIMALS = {
    "entry_price": PRICE,
    "stop_loss": PRICE,
    "take_profit": PRICE,
    "confidence": DecimalRule(5, 2, low=Decimal(0), high=Decimal(100)),
}
EXIT_PRICE = DecimalRule(20, 8)
# The writable fields plain_item reads. An item with a writable field it does not
# read (one added to Signal since) goes to the serializer, which keeps it.
READ_FIELDS = frozenset(
    {"pair", "timeframe", "direction", *DECIMALS, "status", "outcome", "timestamp"}
    | {"strategy", "indicators", "reasoning", "exit_price", "closed_at"}
)
UNREAD_FIELDS = (
    frozenset(SignalSerializer.Meta.fields)
    - frozenset(SignalSerializer.Meta.read_only_fields)
    - READ_FIELDS
)


class NotPlain(Exception):
    """The item is not of the plain shape: the serializer decides."""


def bulk_create_validate(items: list) -> tuple[list[dict[str, Any]], dict[str, dict]]:
    """(validated items, errors by request index) as SignalSerializer(many=True)
    gives them; the validated list is complete only when there are no errors."""
    validated: list[Any] = [None] * len(items)
    doubtful: list[int] = []
    zone = None  # without USE_TZ or with other formats, DateTimeField reads them
    if settings.USE_TZ and list(api_settings.DATETIME_INPUT_FORMATS) == [ISO_8601]:
        zone = timezone.get_current_timezone()
    for index, item in enumerate(items):
        try:
            validated[index] = plain_item(item, zone)
        except Exception:  # any doubt: DRF's answer
            doubtful.append(index)
    if not doubtful:
        return validated, {}
    serializer = SignalSerializer(data=[items[i] for i in doubtful], many=True)
    if not serializer.is_valid():
        errors = {str(doubtful[k]): v for k, v in serializer.errors.items()}
        return [], errors
    for index, data in zip(doubtful, serializer.validated_data, strict=True):
        validated[index] = data
    return validated, {}


def plain_item(item: Any, zone: Any) -> dict[str, Any]:
    """The validated fields of an item the serializer surely accepts, in the
    serializer's field order; NotPlain (or any exception) otherwise. `zone` is
    the current time zone, where DateTimeField puts aware values (None: naive)."""
    if type(item) is not dict:
        raise NotPlain
    if UNREAD_FIELDS and not UNREAD_FIELDS.isdisjoint(item):
        raise NotPlain
    pair = item["pair"]
    # What pair_validator accepts, matched on the whole raw text (fullmatch: not
    # before a final newline): no whitespace for DRF to trim, hence at most 25
    # characters, no NUL, no surrogate.
    if type(pair) is not str or not PAIR_PATTERN.fullmatch(pair):
        raise NotPlain
    data: dict[str, Any] = {
        "pair": pair,
        "timeframe": _choice(item["timeframe"], TIMEFRAMES),
        "direction": _choice(item["direction"], DIRECTIONS),
    }
    for name, rule in DECIMALS.items():
        data[name] = _decimal(item[name], rule)
    if "status" in item:
        data["status"] = _choice(item["status"], STATUSES)
    if "outcome" in item:
        data["outcome"] = _choice(item["outcome"], OUTCOMES)
    data["timestamp"] = _datetime(item["timestamp"], zone)
    if "strategy" in item:
        data["strategy"] = _text(item["strategy"], blank=False, max_length=50)
    if "indicators" in item:
        indicators = item["indicators"]
        if type(indicators) is not dict or json_has_nul(indicators):
            raise NotPlain
        if not all(type(key) is str for key in indicators):
            raise NotPlain  # DictField would make text of them
        data["indicators"] = dict(indicators)  # DictField's copy
    if "reasoning" in item:
        data["reasoning"] = _text(item["reasoning"], blank=True, max_length=None)
    if "exit_price" in item:
        value = item["exit_price"]
        data["exit_price"] = None if value is None else _decimal(value, EXIT_PRICE)
    if "closed_at" in item:
        value = item["closed_at"]
        data["closed_at"] = None if value is None else _datetime(value, zone)
    levels = (data["entry_price"], data["stop_loss"], data["take_profit"])
    if levels_error(data["direction"], *levels):
        raise NotPlain
    return data


def _choice(value: Any, choices: frozenset[str]) -> str:
    if type(value) is not str or value not in choices:
        raise NotPlain
    return value


def _text(value: Any, *, blank: bool, max_length: int | None) -> str:
    """StrictCharField: text only, trimmed, no NUL, no lone surrogate."""
    if type(value) is not str:
        raise NotPlain
    value = value.strip()
    if not value and not blank:
        raise NotPlain
    if max_length is not None and len(value) > max_length:
        raise NotPlain
    if "\x00" in value:
        raise NotPlain
    value.encode()  # UnicodeEncodeError on a surrogate: DRF refuses those
    return value


def _decimal(value: Any, rule: DecimalRule) -> Decimal:
    """StoredDecimalField's value, by the same steps: text, Decimal, precision,
    quantize, float storability, then the bounds."""
    if type(value) is str:
        text = value.strip()
    elif type(value) in (int, float):
        text = str(value)
    else:
        raise NotPlain
    if len(text) > MAX_DECIMAL_TEXT:
        raise NotPlain
    number = Decimal(text)
    if not number.is_finite():
        raise NotPlain
    _, digit_tuple, exponent = number.as_tuple()
    if exponent >= 0:
        total = whole = len(digit_tuple) + exponent
        decimals = 0
    elif len(digit_tuple) > -exponent:
        total, decimals = len(digit_tuple), -exponent
        whole = total - decimals
    else:
        total = decimals = -exponent
        whole = 0
    if total > rule.digits or decimals > rule.places:
        raise NotPlain
    if whole > rule.digits - rule.places:
        raise NotPlain
    number = number.quantize(rule.quantum, context=rule.context)
    if abs(number) >= rule.surely_storable and not float_storable(
        rule.digits, rule.places, number
    ):
        raise NotPlain
    if (rule.low is not None and number < rule.low) or (
        rule.high is not None and number > rule.high
    ):
        raise NotPlain
    return number


def _datetime(value: Any, zone: Any) -> Any:
    """DateTimeField's value for ISO 8601 text with an offset, in the current time
    zone (a naive one is left to the field: making it aware can fail)."""
    if type(value) is not str or zone is None:
        raise NotPlain
    parsed = parse_datetime(value)
    if parsed is None or parsed.utcoffset() is None:
        raise NotPlain
    return parsed.astimezone(zone)  # OverflowError near the calendar's ends
