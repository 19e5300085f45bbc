"""Trade files → rows of entry fields: plain text handling, no Django.

`read_rows(format, lines, mapping)` reads a file's lines one at a time (any iterable
of text lines: a file opened with encoding "utf-8-sig" drops a BOM) and yields, for
each trade row, its 1-based line number and either a dict of entry fields (values
as text or Decimal; times as naive or aware datetimes) or a `Refusal` saying why the
row cannot be read. Checking the values against the entry's rules is the caller's.

Formats: `csv` (a header row; `mapping` names the file's column of each of our
fields, our own names by default); `mt5_csv` and `mt5_html` (MetaTrader 5's trade
history report, saved as CSV or as its HTML: the Positions table, where a partial
close is a row of its own, whose broker ticket is the position id and its closing
time); `mt4_html` (MetaTrader 4's account statement: the Closed Transactions table;
balance, credit and cancelled-order rows are not trades and are passed over; a
partial close leaves the rest under a new ticket, so every row is one closed
trade; taxes count as fees); `ibkr_flex_csv` (Interactive Brokers' Flex query
trades: executions matched first in, first out into entries, journal.ibkr).
Numbers may carry thousands separators.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .html_tables import table_rows
from .ibkr import flex_rows

FORMATS = ("csv", "mt5_csv", "mt5_html", "mt4_html", "ibkr_flex_csv")
# Our fields a csv mapping may name, and those a row needs.
CSV_FIELDS = (
    "ticket",
    "pair",
    "direction",
    "entry_price",
    "exit_price",
    "stop_loss",
    "take_profit",
    "quantity",
    "opened_at",
    "closed_at",
    "fees",
    "swap",
    "gross_pnl",
    "pnl",
    "setup",
    "notes",
    "tags",
)
CSV_REQUIRED = ("pair", "direction", "entry_price", "quantity", "opened_at")
NUMBERS = (
    "entry_price",
    "exit_price",
    "stop_loss",
    "take_profit",
    "quantity",
    "fees",
    "swap",
    "gross_pnl",
    "pnl",
)
TIMES = ("opened_at", "closed_at")
MT5_HEADER = (
    "Time",
    "Position",
    "Symbol",
    "Type",
    "Volume",
    "Price",
    "S / L",
    "T / P",
    "Time",
    "Price",
    "Commission",
    "Swap",
    "Profit",
)
# The report's sections after Positions, each opened by a row of its title.
MT5_SECTIONS = ("Orders", "Deals", "Open Positions", "Working Orders", "Summary")
MT4_HEADER = (
    "Ticket",
    "Open Time",
    "Type",
    "Size",
    "Item",
    "Price",
    "S / L",
    "T / P",
    "Close Time",
    "Price",
    "Commission",
    "Taxes",
    "Swap",
    "Profit",
)
THOUSANDS = re.compile(r"^[+-]?\d{1,3}([,' ]\d{3})+(\.\d+)?$")
SYMBOL = re.compile(r"^([A-Z]{3})([A-Z]{3})(?:[^A-Z].*)?$")


class FileError(ValueError):
    """The file as a whole cannot be read (no header, a missing column)."""


@dataclass(frozen=True)
class Refusal:
    reason: str


def number(text: str) -> Decimal | None:
    """A decimal from text such as "1,234.5", "1 234.5", "-0.25"; None if empty."""
    text = text.strip().replace("\u00a0", " ")
    if not text:
        return None
    if THOUSANDS.match(text):
        text = re.sub(r"[,' ]", "", text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    return value


def moment(text: str) -> datetime | None:
    """ISO 8601 or MetaTrader's "2026.01.05 10:00:00"; naive means the account's
    time zone (the caller's to apply)."""
    text = text.strip()
    if not text:
        return None
    for candidate in (text, text.replace(".", "-", 2).replace("/", "-", 2)):
        try:
            return datetime.fromisoformat(candidate.replace("Z", "+00:00"))
        except ValueError:
            continue
    raise ValueError(f"not a date-time: {text!r}")


def pair(symbol: str) -> str:
    """EURUSD, EURUSD.m, EUR/USD → EUR/USD."""
    symbol = symbol.strip().upper()
    if "/" in symbol:
        return symbol
    found = SYMBOL.match(symbol)
    if not found:
        raise ValueError(f"unknown symbol: {symbol!r}")
    return f"{found.group(1)}/{found.group(2)}"


def _typed(values: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, text in values.items():
        if name in NUMBERS:
            row[name] = number(text)
        elif name in TIMES:
            row[name] = moment(text)
        elif name == "pair":
            row[name] = pair(text)
        elif name == "direction":
            row[name] = text.strip().lower()
        elif name == "tags":
            row[name] = [tag.strip() for tag in text.split(",") if tag.strip()]
        else:
            row[name] = text.strip()
    return {name: value for name, value in row.items() if value not in (None, "")}


def _csv_rows(
    lines: Iterable[str], mapping: dict[str, str]
) -> Iterator[tuple[int, dict | Refusal]]:
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise FileError("the file is empty")
    header = [name.strip() for name in header]
    mapping = mapping or {name: name for name in CSV_FIELDS if name in header}
    unknown = sorted(set(mapping) - set(CSV_FIELDS))
    if unknown:
        raise FileError(f"mapping names unknown fields: {', '.join(unknown)}")
    missing = [name for name in CSV_REQUIRED if name not in mapping]
    absent = [column for column in mapping.values() if column not in header]
    if missing or absent:
        raise FileError(
            "missing columns: " + ", ".join(missing + [repr(c) for c in absent])
        )
    where = {name: header.index(column) for name, column in mapping.items()}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        try:
            values = {name: cells[index] for name, index in where.items()}
            yield line, _typed(values)
        except IndexError:
            yield line, Refusal("the row has fewer cells than the header")
        except ValueError as error:
            yield line, Refusal(str(error))


def _after_header(
    rows: Iterable[tuple[int, list[str]]], header: tuple[str, ...], name: str
) -> Iterator[tuple[int, list[str]]]:
    """The rows after the first one that starts with `header`."""
    rows = iter(rows)
    for _, cells in rows:
        if tuple(cell.strip() for cell in cells[: len(header)]) == header:
            return rows
    raise FileError(f"no {name} header ({', '.join(header[:3])}, …)")


def _levels_and_ticket(row: dict[str, Any], ticket: str) -> dict | Refusal:
    for level in ("stop_loss", "take_profit"):
        if row.get(level) == 0:  # MetaTrader writes 0 for no level
            del row[level]
    closed = row.get("closed_at")
    if closed is None:
        return Refusal("no closing time")
    row["ticket"] = f"{ticket}@{closed:%Y-%m-%dT%H:%M:%S}"
    return row


# Where each of our fields stands in a MetaTrader row, the columns charged as fees
# (commission, taxes: negative amounts; a rebate is positive) and the ticket's.
MT5_COLUMNS = {"opened_at": 0, "pair": 2, "direction": 3, "quantity": 4,
               "entry_price": 5, "stop_loss": 6, "take_profit": 7, "closed_at": 8,
               "exit_price": 9, "swap": 11, "gross_pnl": 12}  # fmt: skip
MT4_COLUMNS = {"opened_at": 1, "direction": 2, "quantity": 3, "pair": 4,
               "entry_price": 5, "stop_loss": 6, "take_profit": 7, "closed_at": 8,
               "exit_price": 9, "swap": 12, "gross_pnl": 13}  # fmt: skip
MT5_CHARGES, MT4_CHARGES = (10,), (10, 11)


def _metatrader_row(
    cells: list[str], columns: dict[str, int], charges: tuple[int, ...], ticket: int
) -> dict | Refusal:
    try:
        row = _typed({name: cells[index] for name, index in columns.items()})
        charged = sum((number(cells[i]) or Decimal(0) for i in charges), Decimal(0))
        row["fees"] = -charged
    except ValueError as error:
        return Refusal(str(error))
    return _levels_and_ticket(row, cells[ticket].strip())


def _mt5_rows(
    rows: Iterable[tuple[int, list[str]]],
) -> Iterator[tuple[int, dict | Refusal]]:
    for line, cells in _after_header(rows, MT5_HEADER, "MetaTrader 5 positions"):
        if cells and cells[0].strip() in MT5_SECTIONS:
            return  # the next section of the report
        if len(cells) < len(MT5_HEADER) or not cells[1].strip().isdigit():
            continue  # totals, blank lines
        yield line, _metatrader_row(cells, MT5_COLUMNS, MT5_CHARGES, 1)


def _mt4_rows(
    rows: Iterable[tuple[int, list[str]]],
) -> Iterator[tuple[int, dict | Refusal]]:
    for line, cells in _after_header(rows, MT4_HEADER, "MetaTrader 4 closed"):
        if cells and cells[0].strip() in ("Open Trades:", "Working Orders:"):
            return  # the next section of the statement
        if len(cells) < len(MT4_HEADER) or not cells[0].strip().isdigit():
            continue  # totals, blank lines
        if cells[2].strip().lower() not in ("buy", "sell"):
            continue  # balance, credit, a cancelled pending order: no trade
        yield line, _metatrader_row(cells, MT4_COLUMNS, MT4_CHARGES, 0)


def _flex_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict | Refusal]]:
    try:
        for line, found in flex_rows(lines, number):
            yield line, Refusal(found) if isinstance(found, str) else found
    except ValueError as error:  # no header at all
        raise FileError(str(error)) from None


def _csv_cells(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines)
    for cells in reader:
        yield reader.line_num, cells


def read_rows(
    format: str, lines: Iterable[str], mapping: dict[str, str] | None = None
) -> Iterator[tuple[int, dict | Refusal]]:
    """The rows of a file of this format, one at a time (see the module's text)."""
    if format == "csv":
        return _csv_rows(lines, mapping or {})
    if format == "mt5_csv":
        return _mt5_rows(_csv_cells(lines))
    if format == "mt5_html":
        return _mt5_rows(table_rows(lines))
    if format == "mt4_html":
        return _mt4_rows(table_rows(lines))
    if format == "ibkr_flex_csv":
        return _flex_rows(lines)
    raise FileError(f"format {format!r} is not supported yet")
