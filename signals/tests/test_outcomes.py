import csv
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from market.tests.factories import candles_create
from signals.models import Signal
from signals.outcomes import outcomes_backfill
from signals.services import Resolution, signals_resolve
from signals.tests.factories import START, SignalFactory

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def buy_signal(**overrides) -> Signal:
    """Buy at 1.1000, stop 1.0950, target 1.1100, on the candle at START."""
    return SignalFactory(timestamp=START, **overrides)


def later_candles(*ohlc: tuple[float, float, float, float], pair: str = "EUR/USD"):
    """The signal's own candle (flat at 1.1) followed by the given candles."""
    rows = [(1.1, 1.1, 1.1, 1.1), *ohlc]
    opens, highs, lows, closes = zip(*rows, strict=True)
    candles_create(pair, highs, lows, closes, open_=opens)


def resolved(signal: Signal) -> Signal:
    signal.refresh_from_db()
    return signal


def test_target_reached_first_is_a_win_at_the_target():
    signal = buy_signal()
    later_candles((1.1, 1.104, 1.098, 1.103), (1.103, 1.1105, 1.102, 1.108))
    outcomes_backfill()
    s = resolved(signal)
    assert (s.status, s.outcome, s.exit_price) == ("closed", "win", Decimal("1.11"))
    assert s.pips == Decimal("100") and s.closed_at == START + 3 * HOUR
    assert s.mfe_pips == Decimal("105") and s.mae_pips == Decimal("20")


def test_stop_reached_first_is_a_loss_at_the_stop():
    signal = buy_signal()
    later_candles((1.1, 1.102, 1.094, 1.096))
    outcomes_backfill()
    s = resolved(signal)
    assert (s.status, s.outcome, s.exit_price, s.pips) == (
        "closed",
        "loss",
        Decimal("1.095"),
        Decimal("-50"),
    )
    assert s.closed_at == START + 2 * HOUR
    assert s.mae_pips == Decimal("60") and s.mfe_pips == Decimal("20")


def test_a_candle_reaching_both_levels_counts_as_the_stop():
    signal = buy_signal()
    later_candles((1.1, 1.12, 1.09, 1.11))
    outcomes_backfill()
    s = resolved(signal)
    assert (s.outcome, s.exit_price) == ("loss", Decimal("1.095"))


def test_a_gap_beyond_the_target_exits_at_the_open():
    signal = buy_signal()
    later_candles((1.1, 1.101, 1.099, 1.1), (1.115, 1.117, 1.114, 1.116))
    outcomes_backfill()
    s = resolved(signal)
    assert (s.outcome, s.exit_price, s.pips) == (
        "win",
        Decimal("1.115"),
        Decimal("150"),
    )


def test_a_gap_beyond_the_stop_exits_at_the_open_even_if_the_range_hits_target():
    signal = buy_signal()
    later_candles((1.09, 1.12, 1.085, 1.1))
    outcomes_backfill()
    s = resolved(signal)
    assert (s.outcome, s.exit_price, s.pips) == (
        "loss",
        Decimal("1.09"),
        Decimal("-100"),
    )


def test_sell_signals_mirror_the_rules():
    signal = SignalFactory(
        timestamp=START,
        direction="sell",
        entry_price=Decimal("1.1"),
        stop_loss=Decimal("1.105"),
        take_profit=Decimal("1.09"),
    )
    later_candles((1.1, 1.103, 1.095, 1.096), (1.096, 1.097, 1.089, 1.09))
    outcomes_backfill()
    s = resolved(signal)
    assert (s.outcome, s.exit_price, s.pips) == ("win", Decimal("1.09"), Decimal("100"))
    assert s.mae_pips == Decimal("30") and s.mfe_pips == Decimal("110")


@pytest.mark.parametrize(
    "last_close, outcome, pips",
    [
        (1.102, "win", Decimal("20")),
        (1.099, "loss", Decimal("-10")),
        (1.1, "breakeven", Decimal("0")),
    ],
)
def test_no_exit_within_the_expiry_bars_expires_at_the_last_close(
    settings, last_close, outcome, pips
):
    settings.SIGNAL_EXPIRY_BARS = 3
    signal = buy_signal()
    later_candles(
        (1.1, 1.101, 1.099, 1.1),
        (1.1, 1.102, 1.098, 1.1),
        (1.1, 1.103, 1.097, last_close),
        (1.1, 1.2, 1.0, 1.1),
    )
    outcomes_backfill()
    s = resolved(signal)
    assert (s.status, s.outcome, s.pips) == ("expired", outcome, pips)
    assert s.exit_price == Decimal(str(last_close)) and s.closed_at == START + 4 * HOUR


def test_a_signal_without_enough_later_candles_stays_active(settings):
    settings.SIGNAL_EXPIRY_BARS = 5
    signal = buy_signal()
    later_candles((1.1, 1.101, 1.099, 1.1))
    report = outcomes_backfill()
    assert report.still_active == 1 and resolved(signal).status == "active"
    assert resolved(signal).pips is None


def test_jpy_pairs_count_pips_of_a_hundredth():
    signal = SignalFactory(
        timestamp=START,
        pair="USD/JPY",
        entry_price=Decimal("150"),
        stop_loss=Decimal("149.5"),
        take_profit=Decimal("151"),
    )
    candles_create("USD/JPY", [150, 151.2], [150, 149.9], [150, 151], open_=[150, 150])
    outcomes_backfill()
    assert resolved(signal).pips == Decimal("100")


def test_backfill_is_idempotent_and_dry_run_writes_nothing(capsys):
    signal = buy_signal()
    later_candles((1.1, 1.2, 1.099, 1.15))
    call_command("backfill_outcomes", "--dry-run")
    assert "would resolve 1" in capsys.readouterr().out
    assert resolved(signal).status == "active"
    call_command("backfill_outcomes", "--pair", "EUR/USD")
    first = resolved(signal)
    assert first.status == "closed"
    call_command("backfill_outcomes")
    assert "resolved 0" in capsys.readouterr().out.splitlines()[-1]
    assert resolved(signal).updated_at == first.updated_at


def test_backfill_leaves_other_pairs_alone_with_pair_filter():
    signal = buy_signal()
    later_candles((1.1, 1.2, 1.099, 1.15))
    outcomes_backfill(pair="GBP/USD")
    assert resolved(signal).status == "active"


def test_resolution_never_overwrites_a_signal_closed_meanwhile():
    signal = buy_signal(status="cancelled")
    written = signals_resolve(
        resolutions=[
            Resolution(
                signal.pk,
                "closed",
                "win",
                Decimal("1.11"),
                Decimal("100"),
                Decimal("0"),
                Decimal("100"),
                START + HOUR,
            )
        ]
    )
    assert written == 0 and resolved(signal).status == "cancelled"


def test_backfill_command_rejects_a_bad_pair():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--pair"):
        call_command("backfill_outcomes", "--pair", "eurusd")


def reference_outcome(signal: dict, candles: list[tuple], expiry: int) -> dict | None:
    """Plain-Python, Decimal re-computation of the contract's rules."""
    buy = signal["direction"] == "buy"
    entry, stop, target = signal["entry"], signal["stop"], signal["target"]
    after = [c for c in candles if c[0] > signal["timestamp"]][:expiry]
    best, worst = entry, entry
    for stamp, open_, high, low, _close in after:
        best = max(best, high) if buy else min(best, low)
        worst = min(worst, low) if buy else max(worst, high)
        beyond_target = open_ >= target if buy else open_ <= target
        beyond_stop = open_ <= stop if buy else open_ >= stop
        reach_target = high >= target if buy else low <= target
        reach_stop = low <= stop if buy else high >= stop
        exit_ = None
        if beyond_stop:
            exit_ = (open_, "loss")
        elif beyond_target:
            exit_ = (open_, "win")
        elif reach_stop:
            exit_ = (stop, "loss")
        elif reach_target:
            exit_ = (target, "win")
        if exit_:
            return {
                "exit": exit_[0],
                "outcome": exit_[1],
                "closed_at": stamp + HOUR,
                "status": "closed",
                "best": best,
                "worst": worst,
            }
    if len(after) < expiry:
        return None
    stamp, close = after[-1][0], after[-1][4]
    move = close - entry if buy else entry - close
    outcome = "win" if move > 0 else "loss" if move < 0 else "breakeven"
    return {
        "exit": close,
        "outcome": outcome,
        "closed_at": stamp + HOUR,
        "status": "expired",
        "best": best,
        "worst": worst,
    }


def test_backfill_on_real_eurusd_matches_a_plain_python_reference(market_data):
    with market_data.open() as handle:
        rows = list(csv.reader(handle))[1:1501]
    candles = [
        (
            datetime.fromisoformat(r[0]).replace(tzinfo=UTC),
            *(Decimal(v) for v in r[1:5]),
        )
        for r in rows
    ]
    opens, highs, lows, closes = (
        list(col) for col in zip(*(c[1:] for c in candles), strict=True)
    )
    stamps = [c[0] for c in candles]
    candles_create("EUR/USD", highs, lows, closes, open_=opens, timestamps=stamps)
    rng = random.Random(7)
    specs = []
    for n in range(300):
        stamp, _, _, _, close = candles[rng.randrange(0, len(candles))]
        risk = Decimal(rng.choice(["0.0010", "0.0025", "0.0050", "0.0003"]))
        direction = rng.choice(["buy", "sell"])
        sign = 1 if direction == "buy" else -1
        specs.append(
            {
                "timestamp": stamp,
                "direction": direction,
                "entry": close,
                "stop": close - sign * risk,
                "target": close + sign * 2 * risk,
            }
        )
        SignalFactory(
            timestamp=stamp,
            direction=direction,
            entry_price=close,
            stop_loss=close - sign * risk,
            take_profit=close + sign * 2 * risk,
            strategy=f"s{n}",
        )
    outcomes_backfill(batch_size=64)
    stored = {s.strategy: s for s in Signal.objects.all()}
    for n, spec in enumerate(specs):
        expected = reference_outcome(spec, candles, 48)
        s = stored[f"s{n}"]
        if expected is None:
            assert s.status == "active"
            continue
        sign = 1 if spec["direction"] == "buy" else -1
        assert (s.status, s.outcome, s.exit_price, s.closed_at) == (
            expected["status"],
            expected["outcome"],
            expected["exit"],
            expected["closed_at"],
        ), (n, spec, expected)
        assert s.pips == (sign * (expected["exit"] - spec["entry"]) / Decimal("0.0001"))
        assert s.mfe_pips == max(
            sign * (expected["best"] - spec["entry"]), 0
        ) / Decimal("0.0001")
        assert s.mae_pips == max(
            sign * (spec["entry"] - expected["worst"]), 0
        ) / Decimal("0.0001")


def test_an_exit_whose_pips_overflow_their_column_leaves_the_signal_active(caplog):
    # A bad tick of ~1e12 gives an mfe of ~1e16 pips: past numeric(16, 4).
    signal = buy_signal()
    later_candles((1.1, 999999999999.0, 1.099, 1.105))
    other = buy_signal(pair="GBP/USD")
    later_candles((1.1, 1.111, 1.099, 1.105), pair="GBP/USD")
    outcomes_backfill()
    assert resolved(signal).status == "active"
    assert resolved(other).status == "closed"  # the rest of the batch is written
    assert f"signal {signal.id} left active" in caplog.text
