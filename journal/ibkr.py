"""Interactive Brokers Flex query trades (CSV) → journal rows: no Django.

A Flex query lists executions, not trades: an opening fill, more fills, a closing
fill that may close part of a position. Rows are read in the file's order (a Flex
query sorts them by time) and matched first in, first out per symbol: each closing
execution becomes one entry over the opening lots it consumes: its quantity, the
lots' weighted mean price as `entry_price`, the first lot's time as `opened_at`, its
own price and time as the exit, its TradeID as the broker ticket, and as fees its
own commission plus the consumed share of the lots' commissions.

Money is in the account's base currency, as IB reports it: P&L and commission are
in the trade's currency (`CurrencyPrimary`, for FX the quote currency) and are
multiplied by `FXRateToBase`; a commission charged in another currency
(`IBCommissionCurrency` not the trade's) is taken as already in the base currency.
The gross P&L is computed from the prices, so it is exact for the lots matched.

Columns read (header names as Flex writes them; any others are ignored; the
header may repeat, once per section): Symbol, DateTime, Buy/Sell, Quantity,
TradePrice, IBCommission, Open/CloseIndicator, TradeID; optional CurrencyPrimary,
IBCommissionCurrency, FXRateToBase, AssetClass. FX symbols such as `EUR.USD` become
`EUR/USD`; other asset classes are refused (the journal keeps currency pairs).
"""

import csv
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

REQUIRED = (
    "Symbol",
    "DateTime",
    "Buy/Sell",
    "Quantity",
    "TradePrice",
    "IBCommission",
    "Open/CloseIndicator",
    "TradeID",
)


@dataclass
class Lot:
    """What is left of an opening execution."""

    quantity: Decimal
    price: Decimal
    at: datetime
    commission_each: Decimal  # base currency, per unit of quantity
    direction: str  # of the position it opened: buy (long) or sell (short)


def flex_time(text: str) -> datetime:
    """Flex's "20260105;103000", "2026-01-05;10:30:00" or ISO 8601."""
    text = text.strip().replace(";", " ")
    date, _, time = text.partition(" ")
    if len(date) == 8 and date.isdigit():
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    if len(time) == 6 and time.isdigit():
        time = f"{time[:2]}:{time[2:4]}:{time[4:]}"
    try:
        return datetime.fromisoformat(f"{date} {time}".strip())
    except ValueError:
        raise ValueError(f"not a date-time: {text!r}") from None


def fx_pair(symbol: str, asset_class: str) -> str:
    symbol = symbol.strip().upper()
    if asset_class and asset_class.strip().upper() not in ("CASH", "FX", "FXCFD"):
        raise ValueError(f"not a currency pair: {symbol} ({asset_class.strip()})")
    base, dot, quote = symbol.partition(".")
    if not dot or len(base) != 3 or len(quote) != 3:
        raise ValueError(f"not a currency pair: {symbol!r}")
    return f"{base}/{quote}"


def flex_rows(
    lines: Iterable[str], number: Any
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, entry fields) of each closing execution, or (line, reason) of a row
    that cannot be read; `number` parses a number (journal.parsers.number)."""
    reader = csv.reader(lines)
    header: list[str] | None = None
    lots: dict[str, deque[Lot]] = defaultdict(deque)
    # An execution listed twice (a repeated TradeID) counts once: a closing one is
    # given again as it was, for the importer to skip as a duplicate.
    seen: dict[str, dict[str, Any] | None] = {}
    for cells in reader:
        line, cells = reader.line_num, [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if all(name in cells for name in REQUIRED):
            header = cells  # a (repeated) header row
            continue
        if header is None:
            continue  # a title or summary line before the trades
        if len(cells) < len(header):
            yield line, "the row has fewer cells than the header"
            continue
        values = dict(zip(header, cells, strict=False))
        trade_id = values["TradeID"]
        if trade_id and trade_id in seen:
            entry = seen[trade_id]
        else:
            try:
                entry = _execution(values, lots, number)
            except ValueError as error:
                yield line, str(error)
                continue
            seen[trade_id] = entry
        entry = dict(entry) if entry is not None else None  # the caller's own
        if entry is not None:
            yield line, entry
    if header is None:
        raise ValueError("no Flex trades header (Symbol, DateTime, Buy/Sell, …)")


def _execution(
    values: dict[str, str], lots: dict[str, deque[Lot]], number: Any
) -> dict[str, Any] | None:
    pair = fx_pair(values["Symbol"], values.get("AssetClass", ""))
    at = flex_time(values["DateTime"])
    side = values["Buy/Sell"].strip().upper()
    if side not in ("BUY", "SELL"):
        raise ValueError(f"Buy/Sell is {values['Buy/Sell']!r}")
    quantity = abs(number(values["Quantity"]) or Decimal(0))
    price = number(values["TradePrice"])
    if not quantity or price is None:
        raise ValueError("no quantity or price")
    rate = number(values.get("FXRateToBase", "")) or Decimal(1)
    commission = -(number(values["IBCommission"]) or Decimal(0))  # charged < 0
    trade_ccy = values.get("CurrencyPrimary", "")
    if values.get("IBCommissionCurrency", trade_ccy) == trade_ccy:
        commission *= rate
    kind = values["Open/CloseIndicator"].upper()
    if "O" in kind and "C" not in kind:
        direction = "buy" if side == "BUY" else "sell"
        lots[pair].append(Lot(quantity, price, at, commission / quantity, direction))
        return None
    if "C" not in kind:
        raise ValueError(f"Open/CloseIndicator is {values['Open/CloseIndicator']!r}")
    return _close(pair, side, quantity, price, at, commission, rate, lots[pair], values)


def _close(
    pair: str,
    side: str,
    quantity: Decimal,
    price: Decimal,
    at: datetime,
    commission: Decimal,
    rate: Decimal,
    open_lots: deque[Lot],
    values: dict[str, str],
) -> dict[str, Any]:
    """Consume the open lots first in, first out for one closing execution."""
    closing = "sell" if side == "BUY" else "buy"  # the direction of what it closes
    available = sum(lot.quantity for lot in open_lots if lot.direction == closing)
    if available < quantity:
        raise ValueError(
            f"closes {quantity} {pair} but only {available} were opened in the file"
        )
    left, cost, fees, opened = quantity, Decimal(0), commission, None
    while left:
        lot = open_lots[0]
        used = min(left, lot.quantity)
        cost += used * lot.price
        fees += used * lot.commission_each
        opened = opened or lot.at
        lot.quantity -= used
        left -= used
        if not lot.quantity:
            open_lots.popleft()
    entry = cost / quantity
    move = (price - entry) if closing == "buy" else (entry - price)
    return {
        "ticket": values["TradeID"],
        "pair": pair,
        "direction": closing,
        "quantity": quantity,
        "entry_price": entry.quantize(Decimal("1e-8")),
        "exit_price": price,
        "opened_at": opened,
        "closed_at": at,
        "fees": fees.quantize(Decimal("1e-8")),
        "gross_pnl": (move * quantity * rate).quantize(Decimal("1e-8")),
    }
