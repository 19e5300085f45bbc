"""Which events a reader wants: parsed from query parameters (the log, the stream)
or a WebSocket `subscribe` message, applied in SQL or to one live event."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core.vocabulary import EventType, Timeframe, pairs_invalid

from .querysets import EventQuerySet

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


class FilterError(ValueError):
    """A malformed parameter; `errors` maps its name to the messages."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.errors = {name: [message]}


@dataclass(frozen=True)
class EventFilter:
    types: frozenset[str] = field(default_factory=frozenset)
    pairs: frozenset[str] = field(default_factory=frozenset)
    timeframes: frozenset[str] = field(default_factory=frozenset)
    min_confidence: Decimal | None = None

    def apply(self, queryset: EventQuerySet) -> EventQuerySet:
        return queryset.matching(
            types=sorted(self.types),
            pairs=sorted(self.pairs),
            timeframes=sorted(self.timeframes),
            min_confidence=self.min_confidence,
        )

    def matches(self, row: Any) -> bool:
        """The match rule of every live reader and webhook: the same test as
        `apply` (tests pin the two together), on anything with the event's filter
        columns (an Event, a live event)."""
        if self.types and row.type not in self.types:
            return False
        if self.pairs and row.pair not in self.pairs:
            return False
        if self.timeframes and row.timeframe not in self.timeframes:
            return False
        if self.min_confidence is not None:
            return row.confidence is not None and row.confidence >= self.min_confidence
        return True


def _names(name: str, values: Any, *, choices: Any = None) -> frozenset:
    """A list of event types or timeframes (`choices`), or of pairs (None)."""
    if not isinstance(values, list) or not all(
        isinstance(value, str) and value for value in values
    ):
        raise FilterError(name, "Expected a list of non-empty names.")
    if choices is None:
        bad = pairs_invalid(values)
        if bad:
            raise FilterError(
                name,
                "Not a valid pair (upper-case BASE/QUOTE such as EUR/USD): "
                + ", ".join(bad),
            )
    else:
        unknown = sorted(set(values) - set(choices))
        if unknown:
            raise FilterError(name, f"Unknown value(s): {', '.join(unknown)}.")
    return frozenset(values)


def _confidence(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise FilterError("min_confidence", "Expected a number from 0 to 100.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not 0 <= number <= 100:
        raise FilterError("min_confidence", "Expected a number from 0 to 100.")
    return number


def _integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise FilterError(name, "Expected an integer.")
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f">= {low}"
        raise FilterError(name, f"Expected an integer {bound}.")
    return value


def _listed(params: Mapping[str, str], name: str) -> list[str] | None:
    value = params.get(name)
    if value is None:
        return None
    return [item.strip() for item in value.split(",")]


def filter_from_params(params: Mapping[str, str]) -> EventFilter:
    """`type`, `pair` (comma separated), `timeframe`, `min_confidence`."""
    values = {
        "types": ("type", _listed(params, "type"), EventType.values),
        "pairs": ("pair", _listed(params, "pair"), None),
        "timeframes": ("timeframe", _listed(params, "timeframe"), Timeframe.values),
    }
    chosen = {
        key: _names(name, value, choices=choices)
        for key, (name, value, choices) in values.items()
        if value is not None
    }
    return EventFilter(
        **chosen, min_confidence=_confidence(params.get("min_confidence"))
    )


def after_from_params(params: Mapping[str, str], name: str = "after") -> int:
    value = params.get(name)
    return 0 if value is None else _integer(name, value, 0, 2**63 - 1)


def limit_from_params(params: Mapping[str, str]) -> int:
    value = params.get("limit")
    return DEFAULT_LIMIT if value is None else _integer("limit", value, 1, MAX_LIMIT)


SUBSCRIBE_KEYS = {
    "action",
    "types",
    "pairs",
    "timeframes",
    "min_confidence",
    "after",
    "batch",
}


@dataclass(frozen=True)
class Subscription:
    """A WebSocket `subscribe` message, read."""

    filter: EventFilter
    after: int | None  # None: live from now
    batch: bool  # several pending events may share one message (a JSON array)


def subscription_from_message(message: Any) -> Subscription:
    """A WebSocket `subscribe` message: its filter, `after` and `batch`."""
    if not isinstance(message, dict) or message.get("action") != "subscribe":
        raise FilterError("action", 'Expected {"action": "subscribe", ...}.')
    unknown = sorted(set(message) - SUBSCRIBE_KEYS)
    if unknown:
        raise FilterError(unknown[0], "Unknown key.")
    chosen = {}
    for key, choices in (
        ("types", EventType.values),
        ("pairs", None),
        ("timeframes", Timeframe.values),
    ):
        if message.get(key) is not None:
            chosen[key] = _names(key, message[key], choices=choices)
    after = message.get("after")
    if after is not None:
        after = _integer("after", after, 0, 2**63 - 1)
        if isinstance(message["after"], str):
            raise FilterError("after", "Expected an integer.")
    batch = message.get("batch", False)
    if not isinstance(batch, bool):
        raise FilterError("batch", "Expected true or false.")
    return Subscription(
        filter=EventFilter(
            **chosen, min_confidence=_confidence(message.get("min_confidence"))
        ),
        after=after,
        batch=batch,
    )
