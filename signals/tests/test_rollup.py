"""The stats rollup (signals/rollup.py, SignalRollupQuerySet): after any sequence of
writes through the services, its answer for any filter it accepts equals the scan's
(SignalQuerySet.stats without filters), and it equals a recount from the rows."""

import math
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from signals.filters import SignalFilter
from signals.models import Signal, SignalRollup
from signals.services import (
    BulkError,
    Resolution,
    signal_create,
    signal_save,
    signals_bulk_create,
    signals_bulk_update,
    signals_delete,
    signals_insert,
    signals_resolve,
    signals_rollup_rebuild,
)
from signals.tests.factories import START, SignalFactory

pytestmark = pytest.mark.django_db

PAIRS = ("EUR/USD", "GBP/USD", "USD/JPY")
STATES = (
    ("active", "pending"),
    ("cancelled", "pending"),
    ("closed", "win"),
    ("closed", "loss"),
    ("expired", "breakeven"),
    ("expired", "win"),
)
# Band edges, the ends of the range and values either side of an edge.
confidences = st.one_of(
    st.sampled_from([0, 10, 20, 50, 89.99, 90, 99.99, 100]),
    st.integers(0, 10000).map(lambda n: n / 100),
).map(lambda value: Decimal(str(value)).quantize(Decimal("0.01")))
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def levels(direction: str) -> dict[str, Decimal]:
    sign = 1 if direction == "buy" else -1
    entry = Decimal("1.10000")
    return {
        "direction": direction,
        "entry_price": entry,
        "stop_loss": entry - sign * Decimal("0.005"),
        "take_profit": entry + sign * Decimal("0.01"),
    }


@st.composite
def changes(draw: Any) -> dict[str, Any]:
    """Some of the fields the rollup groups or sums by."""
    status, outcome = draw(st.sampled_from(STATES))
    every = {
        "pair": draw(st.sampled_from(PAIRS)),
        "status": status,
        "outcome": outcome,
        "confidence": draw(confidences),
        "exit_price": draw(st.sampled_from([None, Decimal("1.105"), Decimal("1.09")])),
        **levels(draw(st.sampled_from(["buy", "sell"]))),
    }
    names = draw(st.sets(st.sampled_from(["pair", "state", "confidence", "exit"])))
    picked: dict[str, Any] = {}
    for name in names:
        if name == "state":
            picked.update(status=status, outcome=outcome)
        elif name == "exit":
            picked["exit_price"] = every["exit_price"]
        else:
            picked[name] = every[name]
    if draw(st.booleans()):
        picked.update(levels(every["direction"]))
    return picked


@st.composite
def new_signal(draw: Any) -> dict[str, Any]:
    fields = {
        "pair": draw(st.sampled_from(PAIRS)),
        "timeframe": draw(st.sampled_from(["1h", "4h"])),
        "confidence": draw(confidences),
        "timestamp": START + timedelta(hours=draw(st.integers(0, 40))),
        **levels(draw(st.sampled_from(["buy", "sell"]))),
    }
    status, outcome = draw(st.sampled_from(STATES))
    if draw(st.booleans()):
        fields.update(status=status, outcome=outcome, exit_price=Decimal("1.1031"))
    return fields


operations = st.one_of(
    st.tuples(st.just("create"), new_signal()),
    st.tuples(st.just("bulk"), st.lists(new_signal(), min_size=1, max_size=4)),
    st.tuples(st.just("update"), st.integers(0, 99), changes()),
    st.tuples(st.just("save"), st.integers(0, 99), changes()),
    st.tuples(st.just("resolve"), st.integers(0, 99), st.sampled_from(STATES[2:])),
    st.tuples(st.just("delete"), st.integers(0, 99)),
)

filters = st.fixed_dictionaries(
    {},
    optional={
        "pair": st.lists(st.sampled_from(PAIRS), min_size=1, unique=True).map(",".join),
        "timeframe": st.sampled_from(["1h", "4h", "15m"]),
        "direction": st.sampled_from(["buy", "sell"]),
        "status": st.sampled_from(["active", "closed", "expired", "cancelled"]),
        "outcome": st.sampled_from(["pending", "win", "loss", "breakeven"]),
        "min_confidence": st.sampled_from(["-5", "0", "10", "90", "100.0", "110"]),
        "max_confidence": st.sampled_from(["-10", "0", "20", "90", "100", "150"]),
    },
)


def apply(operation: tuple) -> None:
    """Run one write through the services; refused writes (BulkError, a
    constraint) change nothing, which the comparison then checks too."""
    kind, *args = operation
    ids = list(Signal.objects.order_by("pk").values_list("pk", flat=True))
    try:
        if kind == "create":
            signal_create(data=args[0])
        elif kind == "bulk":
            signals_bulk_create(items=args[0])
        elif not ids:
            return
        elif kind == "update":
            signals_bulk_update(changes=[(ids[args[0] % len(ids)], args[1])])
        elif kind == "save":
            signal = Signal.objects.get(pk=ids[args[0] % len(ids)])
            for name, value in args[1].items():
                setattr(signal, name, value)
            signal_save(signal=signal)
        elif kind == "resolve":
            status, outcome = args[1]
            exit_price = Decimal("1.1040")
            signals_resolve(
                resolutions=[
                    Resolution(
                        ids[args[0] % len(ids)],
                        status,
                        outcome,
                        exit_price,
                        Decimal("40"),
                        Decimal("-3"),
                        Decimal("41"),
                        START,
                    )
                ]
            )
        else:
            signals_delete(queryset=Signal.objects.filter(pk=ids[args[0] % len(ids)]))
    except (BulkError, IntegrityError):
        pass


def close(rollup: Any, scan: Any, where: str = "") -> None:
    """Counts equal, floats within 1e-9 (the scan sums floats, the rollup exactly)."""
    if isinstance(scan, dict):
        assert rollup.keys() == scan.keys(), where
        for key in scan:
            close(rollup[key], scan[key], f"{where}.{key}")
    elif isinstance(scan, list):
        assert len(rollup) == len(scan), where
        for index, (mine, theirs) in enumerate(zip(rollup, scan, strict=True)):
            close(mine, theirs, f"{where}[{index}]")
    elif isinstance(scan, float):
        assert isinstance(rollup, float), where
        assert math.isclose(rollup, scan, rel_tol=1e-9, abs_tol=1e-9), where
    else:
        assert rollup == scan and type(rollup) is type(scan), where


def rollup_rows() -> set[tuple]:
    rows = SignalRollup.objects.filter(signals__gt=0).values_list(
        "pair",
        "timeframe",
        "direction",
        "status",
        "outcome",
        "band",
        "edge",
        "signals",
        "confidence_sum",
        "confidence_squares",
        "pips_sum",
    )
    return {(*row[:10], float(row[10])) for row in rows}


def reset() -> None:
    Signal.objects.all().delete()
    SignalRollup.objects.all().delete()


@EXAMPLES
@given(
    writes=st.lists(operations, min_size=1, max_size=12),
    queries=st.lists(filters, min_size=1, max_size=4),
)
def test_the_rollup_answers_as_the_scan_after_any_writes(writes, queries):
    reset()
    for operation in writes:
        apply(operation)
    event(f"signals stored (at most 5 told): {min(Signal.objects.count(), 5)}")
    event(f"closed: {Signal.objects.exclude(status='active').exists()}")
    for query in [{}, *queries]:
        filterset = SignalFilter(query, queryset=Signal.objects.all())
        assert filterset.is_valid(), filterset.errors
        cleaned = filterset.form.cleaned_data
        answer = SignalRollup.objects.stats(filters=cleaned)
        assert answer is not None, query
        close(answer, filterset.qs.stats(), str(query))
        assert filterset.qs.filtered_count(filters=cleaned) == filterset.qs.count()
    kept = rollup_rows()
    signals_rollup_rebuild()
    assert rollup_rows() == kept


@pytest.mark.parametrize(
    "query",
    [
        {"since": "2026-01-05"},
        {"until": "2026-01-05T10:00:00Z"},
        {"min_confidence": "55"},
        {"max_confidence": "72.5"},
        {"min_confidence": "95"},
    ],
)
def test_filters_the_rollup_cannot_answer_exactly_fall_back_to_the_scan(query):
    SignalFactory(confidence=Decimal("60"))
    SignalFactory(confidence=Decimal("96"), pair="GBP/USD")
    filterset = SignalFilter(query, queryset=Signal.objects.all())
    assert filterset.is_valid()
    cleaned = filterset.form.cleaned_data
    assert SignalRollup.objects.stats(filters=cleaned) is None
    assert SignalRollup.objects.rollup_count(filters=cleaned) is None
    assert filterset.qs.stats(filters=cleaned) == filterset.qs.stats()
    assert filterset.qs.filtered_count(filters=cleaned) == filterset.qs.count()


@pytest.mark.parametrize(
    "query", [{"min_confidence": "1E+30"}, {"max_confidence": "-1E+30"}]
)
def test_a_bound_past_every_confidence_matches_nothing(api_client, query):
    """Found by the fuzzer: 1E+30 % 10 overflowed the decimal context (a 500)."""
    SignalFactory(confidence=Decimal("60"))
    filterset = SignalFilter(query, queryset=Signal.objects.all())
    assert filterset.is_valid()
    assert SignalRollup.objects.rollup_count(filters=filterset.form.cleaned_data) == 0
    response = api_client.get("/api/signals/stats/", query)
    assert response.status_code == 200 and response.json()["total"] == 0


def test_a_rolled_back_write_leaves_the_rollup_as_it_was():
    signal = SignalFactory(confidence=Decimal("65.5"))
    kept = rollup_rows()
    with pytest.raises(RuntimeError), transaction.atomic():
        signals_bulk_update(changes=[(signal.pk, {"confidence": Decimal("91")})])
        signals_bulk_create(
            items=[
                {
                    **levels("sell"),
                    "pair": "USD/JPY",
                    "timeframe": "1h",
                    "confidence": Decimal("10"),
                    "timestamp": START,
                }
            ]
        )
        assert rollup_rows() != kept
        raise RuntimeError("the caller's transaction fails after the writes")
    assert rollup_rows() == kept


def test_a_write_the_database_refuses_leaves_the_rollup_as_it_was():
    signal = SignalFactory(confidence=Decimal("65.5"))
    kept = rollup_rows()
    with pytest.raises(IntegrityError):
        # The levels no longer match the direction: the UPDATE fails.
        signals_bulk_update(changes=[(signal.pk, {"direction": "sell"})])
    assert rollup_rows() == kept


def test_the_stats_endpoint_answers_from_the_rollup_in_one_query(
    api_client, django_assert_num_queries
):
    for pair in PAIRS:
        SignalFactory.create_batch(3, pair=pair, status="closed", outcome="win")
    with django_assert_num_queries(1):
        response = api_client.get("/api/signals/stats/?pair=EUR/USD,GBP/USD")
    assert response.status_code == 200
    assert response.json()["total"] == 6
    with django_assert_num_queries(2):  # since: the scan's aggregate and GROUP BY
        response = api_client.get("/api/signals/stats/?since=2026-01-05")
    assert response.status_code == 200
    assert response.json()["total"] == 9


def test_the_rebuild_counts_rows_written_around_the_services():
    SignalFactory.build(pair="EUR/USD").save()  # a raw write the rollup missed
    assert SignalRollup.objects.rollup_count(filters={}) == 0
    signals_rollup_rebuild()
    assert SignalRollup.objects.rollup_count(filters={}) == 1


def test_a_write_of_several_batches_adds_each_batch_once():
    # 10,001 rows: more than one batch of _write_fields on either database.
    count = 10_001
    signals = [
        SignalFactory.build(
            pair=PAIRS[n % 3], timestamp=START + timedelta(hours=n // 3)
        )
        for n in range(count)
    ]
    created = signals_insert(signals=signals)
    signals_resolve(
        resolutions=[
            Resolution(
                signal.pk,
                "closed",
                "win" if signal.pk % 2 else "loss",
                Decimal("1.1040"),
                Decimal("40"),
                Decimal("-3"),
                Decimal("41"),
                START,
            )
            for signal in created
        ]
    )
    kept = rollup_rows()
    assert SignalRollup.objects.rollup_count(filters={"status": "closed"}) == count
    signals_rollup_rebuild()
    assert rollup_rows() == kept
