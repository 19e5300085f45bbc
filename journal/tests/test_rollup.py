"""The maintained statistics (journal.rollup) under random write sequences.

Two users write through the services (create, bulk create, close, edit pnl and
closed_at, delete, bulk delete) in a random order. After each sequence every stats
answer, unfiltered (the maintained path on PostgreSQL) and under random filters,
matches the plain-Python reference of test_querysets and, on PostgreSQL, the
window-function statements; the running columns match a walk in plain Python; and a
user's writes never change the other's columns or rollup.
"""

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journal import services
from journal.models import JournalEntry, JournalRollup
from journal.rollup import maintained
from journal.tests.test_querysets import (
    NO_FILTERS,
    PROPERTY,
    assert_matches_reference,
    check,
    costs,
    filters,
    hours,
    new_client,
    prices,
    reference_stats,
    stored_entries,
    trades,
)

pytestmark = pytest.mark.django_db
D = Decimal

writes = st.one_of(
    st.tuples(st.just("create"), st.lists(trades(), min_size=1, max_size=4)),
    st.tuples(st.just("close"), st.integers(0, 50), prices, hours),
    st.tuples(
        st.just("edit"),
        st.integers(0, 50),
        st.decimals(min_value=D("-1e4"), max_value=D("1e4"), places=8),
        hours,
    ),
    st.tuples(st.just("costs"), st.integers(0, 50), costs, costs),
    st.tuples(
        st.just("gross"),
        st.integers(0, 50),
        st.decimals(min_value=D("-1e4"), max_value=D("1e4"), places=8),
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("bulk_delete"), st.integers(0, 50)),
)


def pick(owner_id: int, index: int, **where: Any) -> JournalEntry | None:
    entries = list(JournalEntry.objects.filter(owner_id=owner_id, **where))
    return entries[index % len(entries)] if entries else None


def apply(owner_id: int, write: tuple) -> None:
    kind, *args = write
    if kind == "create":
        services.entries_bulk_create(owner_id=owner_id, items=args[0])
    elif kind == "close" and (entry := pick(owner_id, args[0], closed_at=None)):
        closed_at = entry.opened_at + timedelta(hours=args[2])
        data = {"exit_price": args[1], "closed_at": closed_at}
        services.entry_update(entry=entry, data=data)
    elif kind == "edit" and (entry := pick(owner_id, args[0], closed_at__isnull=False)):
        closed_at = entry.opened_at + timedelta(hours=args[2])
        services.entry_update(
            entry=entry, data={"pnl": args[1], "closed_at": closed_at}
        )
    elif kind == "costs" and (entry := pick(owner_id, args[0])):
        data = {"fees": abs(args[1]), "swap": args[2]}
        services.entry_update(entry=entry, data=data)
    elif kind == "gross" and (
        entry := pick(owner_id, args[0], closed_at__isnull=False)
    ):
        services.entry_update(entry=entry, data={"gross_pnl": args[1]})
    elif kind == "delete" and (entry := pick(owner_id, args[0])):
        services.entry_delete(entry=entry)
    elif kind == "bulk_delete" and (entry := pick(owner_id, args[0])):
        # Entries of this owner closing on the picked one's day: several at once.
        services.entries_delete(
            entries=JournalEntry.objects.filter(
                owner_id=owner_id, opened_at__date=entry.opened_at.date()
            )
        )


def state(owner_id: int) -> tuple[list, list]:
    """The owner's maintained columns and rollup rows, to compare before and after."""
    columns = JournalEntry.objects.filter(owner_id=owner_id).order_by("id")
    rollup = JournalRollup.objects.filter(owner_id=owner_id).order_by("pair", "month")
    return (
        list(columns.values_list("id", "equity", "peak", "drawdown", "streak")),
        [row for row in rollup.values() if row.pop("id")],
    )


def assert_running_columns(owner_id: int) -> None:
    """Each closed entry's columns equal a plain-Python walk in closing order."""
    rows = JournalEntry.objects.filter(owner_id=owner_id).order_by("closed_at", "id")
    equity = peak = Fraction(0)
    streak = 0
    for row in rows.values("closed_at", "pnl", "outcome", "equity", "peak", "streak"):
        if row["closed_at"] is None:
            assert (row["equity"], row["peak"], row["streak"]) == (None, None, None)
            continue
        equity += Fraction(row["pnl"] or 0)
        peak = max(peak, equity)
        won, lost = row["outcome"] == "win", row["outcome"] == "loss"
        streak = (max(streak, 0) + 1) if won else (min(streak, 0) - 1) if lost else 0
        assert (row["equity"], row["peak"], row["streak"]) == (equity, peak, streak)


@PROPERTY
@given(
    sequence=st.lists(st.tuples(st.booleans(), writes), min_size=1, max_size=12),
    chosen=filters,
)
def test_maintained_stats_match_the_references_after_random_writes(sequence, chosen):
    owners = [new_client(), new_client()]
    for second, write in sequence:
        writer, other = owners[second][0], owners[not second][0]
        untouched = state(other)
        apply(writer, write)
        assert state(other) == untouched
    for owner_id, client in owners:
        assert_maintained_state(owner_id)
        fast = JournalEntry.objects.for_owner(owner_id).stats()
        expected = reference_stats(stored_entries(owner_id), **NO_FILTERS)
        assert_matches_reference(fast, expected)
        # The statements every filter runs (on SQLite, every query): the same answer.
        scan = JournalEntry.objects.for_owner(owner_id).filter(id__gte=0).stats()
        assert fast == scan
        check(owner_id, client, **chosen)


def assert_maintained_state(owner_id: int) -> None:
    """On PostgreSQL the running columns follow a plain-Python walk; elsewhere
    nothing is maintained, so no stale column or rollup row can be read."""
    if maintained():
        assert_running_columns(owner_id)
        return
    columns = JournalEntry.objects.filter(owner_id=owner_id)
    assert set(columns.values_list("equity", "peak", "drawdown", "streak")) <= {
        (None, None, None, None)
    }
    assert not JournalRollup.objects.filter(owner_id=owner_id).exists()


@pytest.mark.postgresql
def test_unfiltered_totals_take_one_query(django_assert_num_queries):
    owner_id, _ = new_client()
    with django_assert_num_queries(1):
        stats = JournalEntry.objects.for_owner(owner_id).totals()
    with django_assert_num_queries(3):  # and the breakdowns' two
        JournalEntry.objects.for_owner(owner_id).stats()
    assert stats["total_trades"] == 0 and stats["max_drawdown"] == 0


@pytest.mark.postgresql
def test_stats_rebuild_recomputes_rows_loaded_without_the_services():
    owner_id, _ = new_client()
    services.entries_bulk_create(
        owner_id=owner_id,
        items=[
            {
                "pair": "EUR/USD",
                "direction": "buy",
                "entry_price": D("1.1"),
                "exit_price": D(exit_price),
                "quantity": D("1000"),
                "opened_at": JournalEntry._meta.get_field("opened_at").to_python(
                    "2026-01-01T00:00Z"
                )
                + timedelta(days=day),
                "closed_at": JournalEntry._meta.get_field("closed_at").to_python(
                    "2026-01-02T00:00Z"
                )
                + timedelta(days=day),
            }
            for day, exit_price in enumerate(["1.2", "1.0", "1.05"])
        ],
    )
    expected = state(owner_id)
    JournalEntry.objects.filter(owner_id=owner_id).update(equity=None, streak=None)
    JournalRollup.objects.filter(owner_id=owner_id).delete()
    services.stats_rebuild(owner_id=owner_id)
    assert state(owner_id) == expected
    assert_running_columns(owner_id)
