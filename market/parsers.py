"""Candle files, plain Python: detect the layout (market.layouts), then parse and
check each row.

`CandleFile` streams a file's rows as `CandleRow` or `BadRow`, one per data line,
keeping only the first row of each timestamp. `market.services.candles_import` writes
them.
"""

import csv
import itertools
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from .layouts import PRICE_NAMES, CandleFileError, Layout, layout_detect

EIGHT_PLACES = Decimal("1e-8")  # the candle columns keep 8 decimal places
PRICE_LIMIT = Decimal(10) ** 12  # Decimal(20, 8) leaves 12 integer digits
VOLUME_LIMIT = Decimal(10) ** 16  # Decimal(24, 8) leaves 16
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Epoch numbers from here up are milliseconds: 1e11 s is the year 5138, 1e11 ms 1973.
EPOCH_MILLISECONDS_FROM = 10**11
ZERO = Decimal(0)

_EPOCH_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_UTC_OFFSET = re.compile(r"([+-])(\d{2})(?::?(\d{2}))?")


class RowError(ValueError):
    """One row is bad; the message says why."""


class CandleRow(NamedTuple):
    line: int
    timestamp: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class BadRow(NamedTuple):
    line: int
    reason: str


def utc_offset_parse(text: str) -> timedelta:
    """'+02:00', '-0500', '+03' or 'Z' as a timedelta; ValueError for anything else."""
    text = text.strip()
    if text.upper() in ("Z", "UTC"):
        return timedelta(0)
    match = _UTC_OFFSET.fullmatch(text)
    if not match:
        raise ValueError(f"expected ±HH:MM such as +02:00 or -05:00, got {text!r}")
    sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if int(minutes or 0) >= 60 or offset > timedelta(hours=14):
        raise ValueError(f"expected an offset between -14:00 and +14:00, got {text!r}")
    return -offset if sign == "-" else offset


def timestamp_parse(text: str, *, utc_offset: timedelta) -> datetime:
    """A UTC datetime from ISO 8601, a YYYY.MM.DD date, or epoch seconds/milliseconds.

    Times without an offset are wall-clock times at `utc_offset`; times with one are
    converted; epoch numbers are absolute.
    """
    return _timestamp(text, utc_offset_format(utc_offset))


def utc_offset_format(utc_offset: timedelta) -> str:
    """'+02:00' for two hours, '-05:30' for minus five and a half."""
    minutes = int(utc_offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _timestamp(text: str, iso_offset: str) -> datetime:
    value = text.strip()
    separator = value[4:5]
    if separator != "-":
        if separator in (".", "/") and value[7:8] == separator:
            value = f"{value[:4]}-{value[5:7]}-{value[8:]}"
        elif _EPOCH_NUMBER.fullmatch(value):
            return _epoch_parse(value)
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            # Parsing again with the offset appended costs a fifth of replace(tzinfo).
            try:
                moment = datetime.fromisoformat(value + iso_offset)
            except ValueError:  # forms such as a date alone take no offset
                moment = datetime.fromisoformat(moment.isoformat() + iso_offset)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise RowError(f"unparsable timestamp {text.strip()!r}") from None


def _epoch_parse(value: str) -> datetime:
    number = float(value) if "." in value else int(value)
    try:
        if abs(number) >= EPOCH_MILLISECONDS_FROM:
            return EPOCH + timedelta(milliseconds=number)
        return EPOCH + timedelta(seconds=number)
    except OverflowError:
        raise RowError(f"epoch timestamp {value} is out of range") from None


def _number(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise RowError(f"{name} {text.strip()!r} is not a number")
    return value


def _price(text: str, name: str) -> Decimal:
    value = _number(text, name)
    if value <= 0:
        raise RowError(f"{name} {text.strip()} is not positive")
    if value >= PRICE_LIMIT or value.quantize(EIGHT_PLACES) >= PRICE_LIMIT:
        raise RowError(f"{name} {text.strip()} has more than 12 integer digits")
    value = value.quantize(EIGHT_PLACES)
    if not value:
        raise RowError(f"{name} {text.strip()} is 0 at 8 decimal places")
    return value


def _volume(text: str) -> Decimal:
    value = _number(text, "volume")
    if value < 0:
        raise RowError(f"volume {text.strip()} is negative")
    if value >= VOLUME_LIMIT or value.quantize(EIGHT_PLACES) >= VOLUME_LIMIT:
        raise RowError(f"volume {text.strip()} has more than 16 integer digits")
    return value.quantize(EIGHT_PLACES)


def _row_check(fields: list[str], layout: Layout) -> None:
    """Raise a RowError saying what is wrong with a row's values, one at a time."""
    texts = {
        name: fields[at].strip()
        for name, at in zip(PRICE_NAMES, layout.prices, strict=True)
    }
    prices = {name: _price(text, name) for name, text in texts.items()}
    if prices["high"] < prices["low"]:
        raise RowError(f"high {texts['high']} is below low {texts['low']}")
    for name in ("open", "close"):
        if not prices["low"] <= prices[name] <= prices["high"]:
            raise RowError(
                f"{name} {texts[name]} is outside low–high "
                f"{texts['low']}–{texts['high']}"
            )
    volume = ZERO if layout.volume is None else _volume(fields[layout.volume])
    if not volume and layout.tick_volume is not None:
        _volume(fields[layout.tick_volume])


RowValues = tuple[datetime, Decimal, Decimal, Decimal, Decimal, Decimal]


def _row_parser(
    layout: Layout, utc_offset: timedelta
) -> Callable[[list[str]], RowValues]:
    """A function turning one row's fields into checked values, or raising RowError.

    It runs once per row, so all checks happen in one expression on local names;
    only when they fail does `_row_check` look value by value for the reason.
    """
    width, stamp_at = layout.width, layout.timestamp
    stamp_single = stamp_at[0] if len(stamp_at) == 1 else None
    at_open, at_high, at_low, at_close = layout.prices
    at_volume, at_tick = layout.volume, layout.tick_volume
    iso_offset = utc_offset_format(utc_offset)
    places, price_limit, volume_limit, zero = (
        EIGHT_PLACES,
        PRICE_LIMIT,
        VOLUME_LIMIT,
        ZERO,
    )

    def parse(fields: list[str]) -> RowValues:
        if len(fields) != width:
            raise RowError(f"expected {width} fields, found {len(fields)}")
        if stamp_single is not None:
            stamp = fields[stamp_single]
        else:
            stamp = " ".join([fields[index] for index in stamp_at])
        timestamp = _timestamp(stamp, iso_offset)
        try:
            open_ = Decimal(fields[at_open]).quantize(places)
            high = Decimal(fields[at_high]).quantize(places)
            low = Decimal(fields[at_low]).quantize(places)
            close = Decimal(fields[at_close]).quantize(places)
            volume = zero
            if at_volume is not None:
                volume = Decimal(fields[at_volume]).quantize(places)
            if not volume and at_tick is not None:
                volume = Decimal(fields[at_tick]).quantize(places)
            fine = (
                zero < low <= open_ <= high < price_limit
                and low <= close <= high
                and zero <= volume < volume_limit
            )
        except InvalidOperation:  # not a number, NaN or too large to quantize
            fine = False
        if not fine:
            _row_check(fields, layout)
            raise RowError("values out of range")  # _row_check names the value
        return timestamp, open_, high, low, close, volume

    return parse


class _FirstLines:
    """The line of the first row at each timestamp, at 16 bytes a row in time order.

    A timestamp later (or earlier) than all before it cannot repeat one, so it is only
    appended to an array that stays sorted; the rest, rare in exports, go to a dict.
    """

    def __init__(self) -> None:
        self._rising, self._rising_lines = array("d"), array("q")
        self._falling, self._falling_lines = array("d"), array("q")  # negated keys
        self._others: dict[float, int] = {}

    def first(self, key: float, line: int) -> int:
        rising, falling = self._rising, self._falling
        if not rising or key > rising[-1]:
            rising.append(key)
            self._rising_lines.append(line)
            return line
        if key < (-falling[-1] if falling else rising[0]):
            falling.append(-key)
            self._falling_lines.append(line)
            return line
        for keys, lines, probe in (
            (rising, self._rising_lines, key),
            (falling, self._falling_lines, -key),
        ):
            index = bisect_left(keys, probe)
            if index < len(keys) and keys[index] == probe:
                return lines[index]
        return self._others.setdefault(key, line)


class CandleFile:
    """The rows of one candle file, streamed: a CandleRow or a BadRow per data line.

    Blank lines are ignored. A row repeating an earlier row's timestamp is a BadRow
    naming the line it repeats; the first one stays. Line numbers count every physical
    line of the file from 1, header and blank lines included.
    """

    def __init__(self, lines: Iterable[str], *, utc_offset: timedelta | None = None):
        self._lines = iter(lines)
        self._blank = 0
        for first in self._lines:
            if first.strip().lstrip("\ufeff"):
                break
            self._blank += 1
        else:
            raise CandleFileError("the file has no rows")
        self._first = first.lstrip("\ufeff")
        self.layout = layout_detect(self._first)
        self.utc_offset = (
            self.layout.default_offset if utc_offset is None else utc_offset
        )
        self.rows = 0  # data rows read so far, bad ones included

    def __iter__(self) -> Iterator[CandleRow | BadRow]:
        layout = self.layout
        parse = _row_parser(layout, self.utc_offset)
        reader = csv.reader(
            itertools.chain([self._first], self._lines), delimiter=layout.delimiter
        )
        header_pending = layout.header
        first_lines = _FirstLines()
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if header_pending:
                header_pending = False
                continue
            line = reader.line_num + self._blank
            self.rows += 1
            try:
                values = parse(fields)
            except RowError as error:
                yield BadRow(line, str(error))
                continue
            first = first_lines.first(values[0].timestamp(), line)
            if first != line:
                stamp = f"{values[0]:%Y-%m-%dT%H:%M:%SZ}"
                yield BadRow(line, f"timestamp {stamp} repeats line {first}")
                continue
            yield CandleRow(line, *values)
