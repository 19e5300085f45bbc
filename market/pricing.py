"""Pip arithmetic, the market knowledge signals and the journal share (pure)."""

from collections.abc import Mapping
from decimal import Decimal

JPY_PIP = Decimal("0.01")
DEFAULT_PIP = Decimal("0.0001")


def pip_size(
    pair: str, overrides: Mapping[str, str | Decimal] | None = None
) -> Decimal:
    """Pip size: a per-pair override, else 0.01 for JPY quotes, else 0.0001."""
    if overrides and pair in overrides:
        return Decimal(str(overrides[pair]))
    return JPY_PIP if pair.rpartition("/")[2] == "JPY" else DEFAULT_PIP


def signed_move(direction: str, entry: Decimal, exit_: Decimal) -> Decimal:
    """Price move from entry to exit, positive when it is a profit for the direction."""
    return exit_ - entry if direction == "buy" else entry - exit_


def pips(direction: str, entry: Decimal, exit_: Decimal, pip: Decimal) -> Decimal:
    """Signed pips of a move: positive is profit."""
    return signed_move(direction, entry, exit_) / pip


def risk_reward(entry: Decimal, stop_loss: Decimal, take_profit: Decimal) -> Decimal:
    """|target − entry| / |entry − stop|, to four places."""
    return (abs(take_profit - entry) / abs(entry - stop_loss)).quantize(
        Decimal("0.0001")
    )


def levels_error(
    direction: str, entry: Decimal, stop_loss: Decimal, take_profit: Decimal
) -> str | None:
    """Why the levels do not fit the direction, or None when they do."""
    if direction == "buy" and not stop_loss < entry < take_profit:
        return "a buy needs stop_loss < entry_price < take_profit"
    if direction == "sell" and not stop_loss > entry > take_profit:
        return "a sell needs stop_loss > entry_price > take_profit"
    return None
