"""A journal entry's rules and derived fields: plain arithmetic, no Django.

Every writer (the API, bulk import, the admin and `recompute_journal`) validates with
`entry_errors` and fills pnl, pips, r_multiple and outcome with `derive`, so those
fields mean the same thing whichever way an entry was written.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from market.pricing import pips, signed_move

PENDING, WIN, LOSS, BREAKEVEN = "pending", "win", "loss", "breakeven"

# Places kept by the columns. Prices and quantity have 8 places, so a move has 8 and a
# pip count at most 10 (pip sizes 0.0001 … 100); 12 places keep r_multiple within 1e-9
# relative for |R| >= 5e-4, and within the 15 digits SQLite keeps for |R| < 1000.
PNL_PLACES = 8
PIPS_PLACES = 10
R_PLACES = 12
PNL_DIGITS, PIPS_DIGITS, R_DIGITS = 24, 30, 32  # the columns' max_digits
# Magnitudes the columns cannot hold (the digits before the point, plus rounding).
PNL_LIMIT = Decimal(10) ** (PNL_DIGITS - PNL_PLACES)
PIPS_LIMIT = Decimal(10) ** (PIPS_DIGITS - PIPS_PLACES)


@dataclass(frozen=True)
class Derived:
    gross_pnl: Decimal | None
    pnl: Decimal | None
    pips: Decimal | None
    r_multiple: Decimal | None
    outcome: str


def _quantize(value: Decimal, places: int) -> Decimal:
    result = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return result if result else abs(result)  # no "-0" in answers


def default_pnl(
    direction: str, entry_price: Decimal, exit_price: Decimal, quantity: Decimal
) -> Decimal:
    """(exit − entry) × quantity, negated for a sell, to the column's 8 places."""
    with localcontext() as context:
        context.prec = 60
        return _quantize(
            signed_move(direction, entry_price, exit_price) * quantity, PNL_PLACES
        )


def net_pnl(gross_pnl: Decimal, fees: Decimal, swap: Decimal) -> Decimal:
    """pnl after costs: gross − fees + swap (exact: all have 8 places)."""
    with localcontext() as context:
        context.prec = 60
        return _quantize(gross_pnl - fees + swap, PNL_PLACES)


def gross_from_net(pnl: Decimal, fees: Decimal, swap: Decimal) -> Decimal:
    """The gross pnl a client's net pnl means under these costs: pnl + fees − swap."""
    with localcontext() as context:
        context.prec = 60
        return _quantize(pnl + fees - swap, PNL_PLACES)


def derive(
    *,
    direction: str,
    entry_price: Decimal,
    exit_price: Decimal | None,
    stop_loss: Decimal | None,
    quantity: Decimal,
    gross_pnl: Decimal | None,
    pip: Decimal,
    fees: Decimal = Decimal(0),
    swap: Decimal = Decimal(0),
) -> Derived:
    """The server-computed fields of an entry; `gross_pnl` is the client's or None.

    Open (no exit): all null and pending. Closed: pips signed so profit is positive;
    gross_pnl the client's else (exit − entry) × quantity negated for a sell; pnl =
    gross_pnl − fees + swap; r_multiple the move over |entry − stop| (null without a
    stop), whatever pnl the client gave; outcome by the sign of the net pnl.
    """
    if exit_price is None:
        return Derived(
            gross_pnl=None, pnl=None, pips=None, r_multiple=None, outcome=PENDING
        )
    if gross_pnl is None:
        gross_pnl = default_pnl(direction, entry_price, exit_price, quantity)
    pnl = net_pnl(gross_pnl, fees, swap)
    with localcontext() as context:
        context.prec = 60
        pip_count = _quantize(
            pips(direction, entry_price, exit_price, pip), PIPS_PLACES
        )
        risk = abs(entry_price - stop_loss) if stop_loss is not None else Decimal(0)
        r_multiple = (
            _quantize(signed_move(direction, entry_price, exit_price) / risk, R_PLACES)
            if risk
            else None
        )
    outcome = WIN if pnl > 0 else LOSS if pnl < 0 else BREAKEVEN
    return Derived(
        gross_pnl=gross_pnl,
        pnl=pnl,
        pips=pip_count,
        r_multiple=r_multiple,
        outcome=outcome,
    )


def entry_errors(
    *,
    direction: str | None,
    entry_price: Decimal | None,
    exit_price: Decimal | None,
    stop_loss: Decimal | None,
    quantity: Decimal | None,
    opened_at: datetime | None,
    closed_at: datetime | None,
    pnl: Decimal | None,
    pip: Decimal | None = None,
    fees: Decimal = Decimal(0),
    swap: Decimal = Decimal(0),
    gross_pnl: Decimal | None = None,
) -> dict[str, str]:
    """Why these values do not make an entry, by field; empty when they do.

    `pnl` (net) and `gross_pnl` are the values the client gives in this write (None
    when it gives none); `pip` the pair's pip size, to check that the pips fit their
    column; `fees` and `swap` the entry's costs after this write.
    """
    errors: dict[str, str] = {}
    if exit_price is not None and closed_at is None:
        errors["closed_at"] = (
            "Required when exit_price is set: a closed entry has both."
        )
    if closed_at is not None and exit_price is None:
        errors["exit_price"] = (
            "Required when closed_at is set: a closed entry has both."
        )
    if closed_at is not None and opened_at is not None and closed_at < opened_at:
        errors["closed_at"] = "Must not be before opened_at."
    if stop_loss is not None and stop_loss == entry_price:
        errors["stop_loss"] = "Must differ from entry_price: the risk would be zero."
    if pnl is not None and exit_price is None and closed_at is None:
        errors["pnl"] = "Only a closed entry has a pnl: give exit_price and closed_at."
    if gross_pnl is not None and exit_price is None and closed_at is None:
        errors["gross_pnl"] = (
            "Only a closed entry has a pnl: give exit_price and closed_at."
        )
    if (
        pnl is not None
        and gross_pnl is not None
        and pnl != net_pnl(gross_pnl, fees, swap)
    ):
        errors["pnl"] = "Must equal gross_pnl − fees + swap; give one of them."
    errors.update(_net_errors(pnl, gross_pnl, fees, swap))
    if (
        pnl is None
        and gross_pnl is None
        and direction is not None
        and entry_price is not None
        and exit_price is not None
        and quantity is not None
    ):
        move_pnl = default_pnl(direction, entry_price, exit_price, quantity)
        if abs(move_pnl) >= PNL_LIMIT:
            errors["quantity"] = "(exit − entry) × quantity must stay below 1e16."
        else:
            errors.update(_net_errors(None, move_pnl, fees, swap))
    if direction is not None and entry_price is not None and exit_price is not None:
        errors.update(_overflow_errors(direction, entry_price, exit_price, pip))
    return errors


def _net_errors(
    pnl: Decimal | None, gross_pnl: Decimal | None, fees: Decimal, swap: Decimal
) -> dict[str, str]:
    """A gross or net pnl the costs push past the pnl columns (1e16)."""
    if pnl is not None and abs(gross_from_net(pnl, fees, swap)) >= PNL_LIMIT:
        return {"fees": "pnl + fees − swap (the gross pnl) must stay below 1e16."}
    if gross_pnl is not None and abs(net_pnl(gross_pnl, fees, swap)) >= PNL_LIMIT:
        return {"fees": "gross_pnl − fees + swap (the pnl) must stay below 1e16."}
    return {}


def _overflow_errors(
    direction: str,
    entry_price: Decimal,
    exit_price: Decimal,
    pip: Decimal | None,
) -> dict[str, str]:
    """Derived values past their columns, on the inputs that cause them.

    Only pips can overflow: with a tiny pip override (PIP_SIZES). r_multiple is
    bounded by the price columns (a move below 1e12 over a risk of at least 1e-8).
    """
    with localcontext() as context:
        context.prec = 60
        move = abs(signed_move(direction, entry_price, exit_price))
        if pip and move / pip >= PIPS_LIMIT:
            return {"exit_price": "Gives pips that do not fit their column (1e20)."}
    return {}
