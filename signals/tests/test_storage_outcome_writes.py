"""The array writer of outcomes (signals.storage.writes, via signals_resolve) leaves
the rows the per-instance writer left, and backfill matches a plain reference."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.tests.factories import START, candles_create
from signals.models import Signal
from signals.outcomes import outcomes_backfill
from signals.services import (
    RESOLVE_FIELDS,
    Resolution,
    signals_resolve,
    signals_write_fields,
)
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
ROW = ("status", "outcome", "exit_price", "pips", "mae_pips", "mfe_pips", "closed_at")
PRICE = st.decimals(Decimal("0.00000001"), Decimal("99999"), places=8)
PIPS = st.decimals(Decimal("-99999"), Decimal("99999"), places=4)


def rows(signals: list[Signal]) -> list[tuple]:
    """The outcome columns, and updated_at of the rows a writer touched."""
    return [
        (*(getattr(s, name) for name in ROW), s.status != "cancelled" and s.updated_at)
        for s in Signal.objects.filter(pk__in=[s.pk for s in signals]).order_by("pk")
    ]


resolutions_strategy = st.lists(
    st.tuples(
        st.sampled_from(
            [("closed", "win"), ("closed", "loss"), ("expired", "breakeven")]
        ),
        PRICE,
        PIPS,
        PIPS.map(abs),
        PIPS.map(abs),
        st.integers(1, 10_000),
        st.booleans(),  # still active when written?
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(resolutions_strategy)
def test_array_writer_leaves_the_rows_the_instance_writer_left(items):
    Signal.objects.all().delete()
    twins = []
    for n, (_, _, _, _, _, _, active) in enumerate(items):
        status = "active" if active else "cancelled"
        pair = [
            SignalFactory(strategy=name, status=status, timestamp=START + n * HOUR)
            for name in ("array", "instance")
        ]
        twins.append(pair)
    made = [
        Resolution(
            pk, kind[0], kind[1], exit_price, result, mae, mfe, START + hours * HOUR
        )
        for (kind, exit_price, result, mae, mfe, hours, _), (array, _) in zip(
            items, twins, strict=True
        )
        for pk in [array.pk]
    ]
    written = signals_resolve(resolutions=made)
    stamp = Signal.objects.filter(strategy="array", status__in=["closed", "expired"])
    now = stamp.values_list("updated_at", flat=True).first()
    old = [
        Signal(
            pk=instance.pk,
            updated_at=now,
            **dict(zip(ROW, resolution_row(r), strict=True)),
        )
        for r, (_, instance) in zip(made, twins, strict=True)
    ]
    signals_write_fields(signals=old, fields=RESOLVE_FIELDS, only_active=True)

    assert written == sum(active for *_, active in items)
    assert rows([a for a, _ in twins]) == rows([i for _, i in twins])
    # Independent of both writers: what the columns keep of each resolution.
    for (array, _), r, item in zip(twins, made, items, strict=True):
        array.refresh_from_db()
        if item[-1]:
            assert (array.exit_price, array.pips) == (
                r.exit_price.quantize(Decimal("1e-8")),
                r.pips.quantize(Decimal("1e-4")),
            )
            assert (array.status, array.outcome, array.closed_at) == (
                r.status,
                r.outcome,
                r.closed_at,
            )
        else:
            assert (array.status, array.outcome, array.pips) == (
                "cancelled",
                "pending",
                None,
            )


def resolution_row(r: Resolution) -> tuple:
    return (
        r.status,
        r.outcome,
        r.exit_price,
        r.pips,
        r.mae_pips,
        r.mfe_pips,
        r.closed_at,
    )


def reference(signal: Signal, candles: list[tuple], expiry: int) -> tuple | None:
    """The contract's rules in plain Decimal arithmetic, candle by candle."""
    later = [c for c in candles if c[0] > signal.timestamp][:expiry]
    buy, sl, tp = signal.direction == "buy", signal.stop_loss, signal.take_profit
    sign = 1 if buy else -1
    exit_at = None
    for index, (_, o, h, lo, _) in enumerate(later):
        beyond = (lambda p, level: p >= level) if buy else (lambda p, level: p <= level)
        before = (lambda p, level: p <= level) if buy else (lambda p, level: p >= level)
        reach_tp, reach_sl = (h, lo) if buy else (lo, h)
        if before(o, sl):
            exit_at = (index, "loss", o)
        elif beyond(o, tp):
            exit_at = (index, "win", o)
        elif before(reach_sl, sl):
            exit_at = (index, "loss", sl)
        elif beyond(reach_tp, tp):
            exit_at = (index, "win", tp)
        if exit_at:
            break
    if exit_at is None and len(later) == expiry:
        exit_at = (expiry - 1, None, later[-1][4])
    if exit_at is None:
        return None
    index, outcome, price = exit_at
    pips = (sign * (price - signal.entry_price) / Decimal("0.0001")).quantize(
        Decimal("1e-4")
    )
    if outcome is None:
        outcome = "win" if pips > 0 else "loss" if pips < 0 else "breakeven"
    window = later[: index + 1]
    high, low = max(c[2] for c in window), min(c[3] for c in window)
    best, worst = (high, low) if buy else (low, high)
    mfe = max(sign * (best - signal.entry_price) / Decimal("0.0001"), 0)
    mae = max(-sign * (worst - signal.entry_price) / Decimal("0.0001"), 0)
    status = "expired" if exit_at[1] is None else "closed"
    return (
        status,
        outcome,
        price,
        pips,
        Decimal(mae).quantize(Decimal("1e-4")),
        Decimal(mfe).quantize(Decimal("1e-4")),
        later[index][0] + HOUR,
    )


def test_backfill_matches_a_plain_reference_and_a_second_run_changes_nothing():
    rng = random.Random(7)
    closes = [1.1]
    for _ in range(120):
        closes.append(round(closes[-1] * (1 + rng.gauss(0, 0.002)), 5))
    opens = [closes[0], *closes[:-1]]
    highs = [
        round(max(o, c) + rng.random() * 0.002, 5)
        for o, c in zip(opens, closes, strict=True)
    ]
    lows = [
        round(min(o, c) - rng.random() * 0.002, 5)
        for o, c in zip(opens, closes, strict=True)
    ]
    stored = candles_create("EUR/USD", highs, lows, closes, open_=opens)
    candles = [(c.timestamp, c.open, c.high, c.low, c.close) for c in stored]
    signals = []
    for n in range(60):
        entry = Decimal(str(closes[n])).quantize(Decimal("1e-5"))
        buy = n % 2 == 0
        sign = 1 if buy else -1
        risk = Decimal(rng.choice(["0.002", "0.004", "0.008"]))
        signals.append(
            SignalFactory(
                direction="buy" if buy else "sell",
                entry_price=entry,
                stop_loss=entry - sign * risk,
                take_profit=entry + sign * 2 * risk,
                timestamp=START + n * HOUR,
                status="cancelled" if n % 13 == 5 else "active",
            )
        )
    outcomes_backfill(batch_size=7)
    first = rows(signals)
    for signal, row in zip(signals, first, strict=True):
        if signal.status == "cancelled":  # closed by someone else: left alone
            assert row[:3] == ("cancelled", "pending", None)
        else:
            resolved = row[:-1] if row[0] != "active" else None
            assert resolved == reference(signal, candles, 48)
    assert sum(row[0] in ("closed", "expired") for row in first) > 30
    report = outcomes_backfill(batch_size=7)
    assert report.resolved == 0 and rows(signals) == first
