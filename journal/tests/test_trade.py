from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from journal.trade import PNL_LIMIT, derive, entry_errors

D = Decimal
OPEN = datetime(2026, 1, 5, tzinfo=UTC)
PIP = D("0.0001")


def closed_buy(**overrides: object) -> dict:
    values = {
        "direction": "buy",
        "entry_price": D("1.1"),
        "exit_price": D("1.105"),
        "stop_loss": D("1.095"),
        "quantity": D("10000"),
        "gross_pnl": None,
        "pip": PIP,
    }
    values.update(overrides)
    return values


def test_an_open_entry_is_pending_with_nothing_derived():
    derived = derive(**closed_buy(exit_price=None))
    assert (derived.pnl, derived.pips, derived.r_multiple) == (None, None, None)
    assert derived.outcome == "pending"


def test_a_winning_buy_has_positive_pips_pnl_and_r():
    derived = derive(**closed_buy())
    assert derived.pnl == D("50") and derived.pips == D("50")
    assert derived.r_multiple == D("1") and derived.outcome == "win"


def test_a_sell_negates_the_move():
    derived = derive(
        **closed_buy(direction="sell", stop_loss=D("1.105"), exit_price=D("1.09"))
    )
    assert derived.pnl == D("100") and derived.pips == D("100")
    assert derived.r_multiple == D("2") and derived.outcome == "win"


def test_jpy_quotes_count_pips_of_0_01():
    derived = derive(
        **closed_buy(
            entry_price=D("150"),
            exit_price=D("149.5"),
            stop_loss=D("149"),
            quantity=D("2"),
            pip=D("0.01"),
        )
    )
    assert derived.pips == D("-50") and derived.pnl == D("-1")
    assert derived.r_multiple == D("-0.5") and derived.outcome == "loss"


def test_the_clients_pnl_wins_but_r_multiple_still_follows_the_prices():
    derived = derive(**closed_buy(gross_pnl=D("-3.25")))
    assert derived.pnl == D("-3.25") and derived.outcome == "loss"
    assert derived.r_multiple == D("1")


def test_no_stop_means_no_r_multiple_and_zero_pnl_is_breakeven():
    derived = derive(**closed_buy(stop_loss=None, exit_price=D("1.1")))
    assert derived.r_multiple is None
    assert derived.pnl == 0 and derived.outcome == "breakeven"
    assert not str(derived.pnl).startswith("-")


prices = st.decimals(
    min_value=D("0.00000001"), max_value=D("100000"), places=8, allow_nan=False
)
quantities = st.decimals(
    min_value=D("0.00000001"), max_value=D("1000000"), places=8, allow_nan=False
)


@settings(max_examples=50, deadline=None)
@given(
    direction=st.sampled_from(["buy", "sell"]),
    entry=prices,
    exit_=prices,
    stop=prices,
    quantity=quantities,
    pip=st.sampled_from([D("0.0001"), D("0.01"), D("1"), D("0.5")]),
)
def test_derived_fields_match_the_contract_definitions(
    direction, entry, exit_, stop, quantity, pip
):
    derived = derive(
        direction=direction,
        entry_price=entry,
        exit_price=exit_,
        stop_loss=stop if stop != entry else None,
        quantity=quantity,
        gross_pnl=None,
        pip=pip,
    )
    sign = 1 if direction == "buy" else -1
    move = sign * (Fraction(exit_) - Fraction(entry))
    # Pips are exact for these pip sizes; pnl is kept to the column's 8 places.
    assert Fraction(derived.pips) == move / Fraction(pip)
    assert abs(Fraction(derived.pnl) - move * Fraction(quantity)) <= Fraction(
        1, 2 * 10**8
    )
    if stop != entry:
        exact_r = move / abs(Fraction(entry) - Fraction(stop))
        assert abs(Fraction(derived.r_multiple) - exact_r) <= Fraction(1, 2 * 10**12)
    expected = "win" if derived.pnl > 0 else "loss" if derived.pnl < 0 else "breakeven"
    assert derived.outcome == expected


def errors(**overrides: object) -> dict[str, str]:
    values = {
        "direction": "buy",
        "entry_price": D("1.1"),
        "exit_price": D("1.105"),
        "stop_loss": D("1.095"),
        "quantity": D("1"),
        "opened_at": OPEN,
        "closed_at": OPEN + timedelta(hours=1),
        "pnl": None,
    }
    values.update(overrides)
    return entry_errors(**values)


def test_a_valid_entry_has_no_errors():
    assert errors() == {}
    assert errors(exit_price=None, closed_at=None) == {}


def test_exit_and_close_time_go_together():
    assert set(errors(closed_at=None)) == {"closed_at"}
    assert set(errors(exit_price=None)) == {"exit_price"}


def test_closing_before_opening_is_an_error():
    assert set(errors(closed_at=OPEN - timedelta(seconds=1))) == {"closed_at"}
    assert errors(closed_at=OPEN) == {}


def test_a_stop_at_the_entry_price_is_an_error():
    assert set(errors(stop_loss=D("1.1"))) == {"stop_loss"}


def test_an_open_entry_cannot_have_a_pnl():
    assert set(errors(exit_price=None, closed_at=None, pnl=D("5"))) == {"pnl"}


def test_a_computed_pnl_too_large_for_its_column_is_an_error():
    big = (PNL_LIMIT / D("0.005")).quantize(D(1))
    assert set(errors(quantity=big)) == {"quantity"}
    assert errors(quantity=big, pnl=D("1")) == {}


def test_costs_make_the_net_pnl_and_decide_the_outcome():
    derived = derive(**closed_buy(fees=D("7.5"), swap=D("-1.25")))
    assert derived.gross_pnl == D("50") and derived.pnl == D("41.25")
    assert derived.outcome == "win"
    # Costs can turn a gross win into a net loss; r_multiple ignores them.
    derived = derive(**closed_buy(fees=D("60"), swap=D("0.5")))
    assert derived.pnl == D("-9.5") and derived.outcome == "loss"
    assert derived.r_multiple == D("1")
    derived = derive(**closed_buy(gross_pnl=D("3"), fees=D("3")))
    assert derived.pnl == D("0") and derived.outcome == "breakeven"


@settings(max_examples=200, deadline=None)
@given(
    gross=st.decimals(min_value=D("-1e9"), max_value=D("1e9"), places=8),
    fees=st.decimals(min_value=D("0"), max_value=D("1e6"), places=8),
    swap=st.decimals(min_value=D("-1e6"), max_value=D("1e6"), places=8),
)
def test_net_pnl_is_gross_minus_fees_plus_swap_exactly(gross, fees, swap):
    derived = derive(**closed_buy(gross_pnl=gross, fees=fees, swap=swap))
    assert Fraction(derived.pnl) == Fraction(gross) - Fraction(fees) + Fraction(swap)
    assert derived.gross_pnl == gross


def test_a_pnl_and_a_gross_pnl_that_disagree_are_refused():
    base = {
        "direction": "buy",
        "entry_price": D("1.1"),
        "exit_price": D("1.105"),
        "stop_loss": None,
        "quantity": D("1"),
        "opened_at": OPEN,
        "closed_at": OPEN,
    }
    assert entry_errors(**base, pnl=D("8"), gross_pnl=D("10"), fees=D("2")) == {}
    errors = entry_errors(**base, pnl=D("9"), gross_pnl=D("10"), fees=D("2"))
    assert set(errors) == {"pnl"}
    open_ = {**base, "exit_price": None, "closed_at": None}
    assert set(entry_errors(**open_, pnl=None, gross_pnl=D("1"))) == {"gross_pnl"}


def test_costs_pushing_a_pnl_past_its_column_are_refused():
    base = {
        "direction": "buy",
        "entry_price": D("1.1"),
        "exit_price": D("1.105"),
        "stop_loss": None,
        "quantity": D("1"),
        "opened_at": OPEN,
        "closed_at": OPEN,
    }
    near = PNL_LIMIT - 1
    assert set(entry_errors(**base, pnl=near, fees=D("5"))) == {"fees"}
    assert set(entry_errors(**base, pnl=None, gross_pnl=-near, fees=D("5"))) == {"fees"}
    assert entry_errors(**base, pnl=near, swap=D("5")) == {}
