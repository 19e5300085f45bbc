"""The journal statistics against a plain-Python reference of the contract's definitions.

The reference reads the entries' stored fields (pnl, pips, r_multiple, outcome, times)
and computes every stats field with exact fractions and simple loops, independently of
the SQL. Money and pips must match exactly (1e-9 relative, no absolute slack). The two
r_multiple statistics are exact up to the stored R itself: SQLite keeps it as a double,
so there its sums carry a rounding of about 1e-16 · max|R|, allowed for below.
"""

import math
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from journal.models import JournalEntry
from journal.services import account_default, entries_bulk_create

pytestmark = pytest.mark.django_db
D = Decimal
START = datetime(2026, 1, 1, tzinfo=UTC)
PAIRS = ["EUR/USD", "USD/JPY", "BTC/USDT", "GBP/USD"]
SETUPS = ["", "breakout", "pullback"]
TAGS = ["a_grade", "news", "fomo", "late entry"]
R_SLACK = 1e-12  # relative to max|R|: far above a double's rounding, far below 1e-9


# --- the reference -----------------------------------------------------------------


def in_filter(
    entry: dict,
    pairs: list | None,
    setup: str | None,
    since,
    until,
    tags: list | None = None,
    tag_mode: str = "any",
) -> bool:
    when = entry["closed_at"] if entry["closed_at"] is not None else entry["opened_at"]
    tagged = (
        tags is None
        or (tag_mode == "any" and bool(set(tags) & entry["tags"]))
        or (tag_mode == "all" and set(tags) <= entry["tags"])
    )
    return (
        tagged
        and (pairs is None or entry["pair"] in pairs)
        and (setup is None or entry["setup"] == setup)
        and (since is None or when >= since)
        and (until is None or when <= until)
    )


def ratio(numerator: Fraction, denominator: Fraction | int) -> Fraction | None:
    return Fraction(numerator) / denominator if denominator else None


def reference_stats(entries: list[dict], **filters: Any) -> dict[str, Any]:
    chosen = [entry for entry in entries if in_filter(entry, **filters)]
    closed = sorted(
        (entry for entry in chosen if entry["closed_at"] is not None),
        key=lambda entry: (entry["closed_at"], entry["id"]),
    )
    pnl = [Fraction(entry["pnl"]) for entry in closed]
    for entry in closed:  # the stored net pnl is the gross one after costs
        gross, fees, swap = (Fraction(entry[k]) for k in ("gross_pnl", "fees", "swap"))
        assert Fraction(entry["pnl"]) == gross - fees + swap
    wins = [Fraction(e["pnl"]) for e in closed if e["outcome"] == "win"]
    losses = [Fraction(e["pnl"]) for e in closed if e["outcome"] == "loss"]
    gross_profit = sum((p for p in pnl if p > 0), Fraction(0))
    gross_loss = -sum((p for p in pnl if p < 0), Fraction(0))
    avg_win = ratio(sum(wins), len(wins))
    avg_loss = ratio(sum(losses), len(losses))

    equity = peak = drawdown = Fraction(0)
    run = {"win": 0, "loss": 0}
    longest = {"win": 0, "loss": 0}
    for entry, amount in zip(closed, pnl, strict=True):
        equity += amount
        peak = max(peak, equity)
        drawdown = max(drawdown, peak - equity)
        for outcome in run:
            run[outcome] = run[outcome] + 1 if entry["outcome"] == outcome else 0
            longest[outcome] = max(longest[outcome], run[outcome])

    r_values = [
        Fraction(e["r_multiple"]) for e in closed if e["r_multiple"] is not None
    ]
    sqn = None
    if len(r_values) >= 2:
        mean = sum(r_values) / len(r_values)
        variance = sum((r - mean) ** 2 for r in r_values) / (len(r_values) - 1)
        if variance:
            sqn = math.copysign(math.sqrt(len(r_values) * mean**2 / variance), mean)

    by_pair: dict[str, dict] = {}
    for entry in sorted(chosen, key=lambda entry: entry["pair"]):
        row = by_pair.setdefault(
            entry["pair"],
            {
                "pair": entry["pair"],
                "trades": 0,
                "wins": 0,
                "losses": 0,
                "total_pnl": Fraction(0),
                "total_pips": Fraction(0),
            },
        )
        if entry["closed_at"] is not None:
            row["trades"] += 1
            row["wins"] += entry["outcome"] == "win"
            row["losses"] += entry["outcome"] == "loss"
            row["total_pnl"] += Fraction(entry["pnl"])
            row["total_pips"] += Fraction(entry["pips"])
    for row in by_pair.values():
        row["win_rate"] = ratio(row["wins"], row["trades"])
    by_month: dict[str, dict] = defaultdict(
        lambda: {"trades": 0, "wins": 0, "total_pnl": Fraction(0)}
    )
    for entry in closed:
        row = by_month[entry["closed_at"].astimezone(UTC).strftime("%Y-%m")]
        row["trades"] += 1
        row["wins"] += entry["outcome"] == "win"
        row["total_pnl"] += Fraction(entry["pnl"])

    return {
        "total_trades": len(chosen),
        "open_trades": len(chosen) - len(closed),
        "closed_trades": len(closed),
        "wins": len(wins),
        "losses": len(losses),
        "breakevens": sum(1 for e in closed if e["outcome"] == "breakeven"),
        "win_rate": ratio(len(wins), len(closed)),
        "total_pnl": sum(pnl, Fraction(0)),
        "total_fees": sum((Fraction(e["fees"]) for e in closed), Fraction(0)),
        "total_swap": sum((Fraction(e["swap"]) for e in closed), Fraction(0)),
        "gross_pnl": sum((Fraction(e["gross_pnl"]) for e in closed), Fraction(0)),
        "gross_profit": gross_profit,
        "gross_loss": gross_loss,
        "profit_factor": ratio(gross_profit, gross_loss),
        "avg_win": avg_win,
        "avg_loss": avg_loss,
        "expectancy": ratio(sum(pnl, Fraction(0)), len(closed)),
        "avg_r_multiple": ratio(sum(r_values, Fraction(0)), len(r_values)),
        "total_pips": sum((Fraction(e["pips"]) for e in closed), Fraction(0)),
        "largest_win": max(wins, default=None),
        "largest_loss": min(losses, default=None),
        "max_drawdown": drawdown,
        "longest_win_streak": longest["win"],
        "longest_loss_streak": longest["loss"],
        "payoff_ratio": (
            avg_win / abs(avg_loss) if avg_win is not None and avg_loss else None
        ),
        "sqn": sqn,
        "by_pair": list(by_pair.values()),
        "by_month": [
            {"month": month, **row} for month, row in sorted(by_month.items())
        ],
        "_r": r_values,
    }


def assert_number(actual: Any, expected: Any, name: str, slack: float = 0) -> None:
    if expected is None or isinstance(expected, int) and not isinstance(actual, float):
        assert actual == expected, name
        return
    assert actual is not None, name
    assert math.isclose(actual, float(expected), rel_tol=1e-9, abs_tol=slack), (
        name,
        actual,
        float(expected),
    )


BREAKDOWNS = {
    "by_weekday",
    "by_hour",
    "by_session",
    "by_holding_time",
    "by_tag",
    "r_histogram",
    "exit_efficiency",
}


def assert_matches_reference(actual: dict, expected: dict) -> None:
    """The totals against the reference (the breakdowns: test_breakdowns)."""
    r_values = expected.pop("_r")
    actual = {name: value for name, value in actual.items() if name not in BREAKDOWNS}
    assert set(actual) == set(expected)
    r_slack = R_SLACK * float(max((abs(r) for r in r_values), default=0))
    for name, value in expected.items():
        if name in ("by_pair", "by_month"):
            assert [row.get("pair", row.get("month")) for row in actual[name]] == [
                row.get("pair", row.get("month")) for row in value
            ], name
            for got, want in zip(actual[name], value, strict=True):
                assert set(got) == set(want), name
                for key, number in want.items():
                    if key in ("pair", "month"):
                        continue
                    assert_number(got[key], number, f"{name}.{got.get('pair')}.{key}")
        elif name == "avg_r_multiple":
            assert_number(actual[name], value, name, r_slack)
        elif name == "sqn" and value is not None:
            n = len(r_values)
            mean = sum(r_values) / n
            stdev = math.sqrt(sum((r - mean) ** 2 for r in r_values) / (n - 1))
            slack = (math.sqrt(n) + abs(value)) * r_slack / stdev
            assert_number(actual[name], value, name, slack)
        else:
            assert_number(actual[name], value, name)


# --- building journals -------------------------------------------------------------


def stored_entries(owner_id: int) -> list[dict]:
    links = JournalEntry.tags.through.objects.filter(journalentry__owner_id=owner_id)
    tags = defaultdict(set)
    for entry_id, name in links.values_list("journalentry_id", "tag__name"):
        tags[entry_id].add(name)
    rows = list(
        JournalEntry.objects.filter(owner_id=owner_id).values(
            "id",
            "pair",
            "setup",
            "opened_at",
            "closed_at",
            "fees",
            "swap",
            "gross_pnl",
            "pnl",
            "pips",
            "r_multiple",
            "outcome",
        )
    )
    return [{**row, "tags": tags[row["id"]]} for row in rows]


def new_client() -> tuple[int, APIClient]:
    user = get_user_model().objects.create(username=f"u-{uuid.uuid4().hex}")
    client = APIClient()
    client.force_authenticate(user)
    return user.id, client


def api_stats(client: APIClient, **filters: Any) -> dict:
    query = {}
    if filters.get("pairs") is not None:
        query["pair"] = ",".join(filters["pairs"])
    if filters.get("setup") is not None:
        query["setup"] = filters["setup"]
    if filters.get("tags") is not None:
        # Upper case on the way in: the filter lower-cases, as the writes do.
        query["tag"] = ",".join(filters["tags"]).upper()
        query["tag_mode"] = filters["tag_mode"]
    for bound in ("since", "until"):
        if filters.get(bound) is not None:
            query[bound] = filters[bound].isoformat().replace("+00:00", "Z")
    response = client.get(f"/api/journal/stats/?{urlencode(query)}")
    assert response.status_code == 200, response.content
    return response.json()


NO_FILTERS = {
    "pairs": None,
    "setup": None,
    "since": None,
    "until": None,
    "tags": None,
    "tag_mode": "any",
}


def check(owner_id: int, client: APIClient, **filters: Any) -> dict:
    filters = {**NO_FILTERS, **filters}
    expected = reference_stats(stored_entries(owner_id), **filters)
    actual = api_stats(client, **filters)
    assert_matches_reference(actual, expected)
    return actual


prices = st.decimals(min_value=D("0.5"), max_value=D("200"), places=5)
# Costs: often none, else from a unit of 1e-8 to large, signed (fees: their magnitude).
costs = st.just(D(0)) | st.decimals(min_value=D("-1e5"), max_value=D("1e5"), places=8)
# Offsets in hours; a coarse grid makes ties on closed_at common.
hours = st.integers(min_value=0, max_value=24 * 100).map(lambda h: h - h % 6)


@st.composite
def trades(draw: st.DrawFn) -> dict[str, Any]:
    entry = draw(prices)
    opened = START + timedelta(hours=draw(hours))
    trade = {
        "pair": draw(st.sampled_from(PAIRS)),
        "direction": draw(st.sampled_from(["buy", "sell"])),
        "entry_price": entry,
        "stop_loss": draw(st.none() | prices.filter(lambda p: p != entry)),
        "quantity": draw(
            st.decimals(min_value=D("0.01"), max_value=D("1000"), places=2)
        ),
        "opened_at": opened,
        "setup": draw(st.sampled_from(SETUPS)),
        "tags": draw(st.lists(st.sampled_from(TAGS), max_size=3, unique=True)),
    }
    if draw(st.integers(0, 4)):  # mostly closed
        # Closing times snap to midnight (never before opening): many ties.
        closed_at = opened + timedelta(hours=draw(hours))
        trade["closed_at"] = max(opened, closed_at.replace(hour=0))
        trade["exit_price"] = draw(st.just(entry) | prices)
        # A net pnl, a gross one, or none (from the prices).
        trade["gross_pnl" if draw(st.booleans()) else "pnl"] = draw(
            st.none()
            | st.just(D(0))
            | st.decimals(min_value=D("-1e6"), max_value=D("1e6"), places=8)
            | st.decimals(min_value=D("-1e-5"), max_value=D("1e-5"), places=8)
        )
    trade["fees"] = abs(draw(costs))
    trade["swap"] = draw(costs)
    return trade


instants = hours.map(lambda h: START + timedelta(hours=h, minutes=-1))
filters = st.fixed_dictionaries(
    {
        "pairs": st.none() | st.lists(st.sampled_from(PAIRS), min_size=1, unique=True),
        "setup": st.none() | st.sampled_from(SETUPS[1:]),
        "since": st.none() | instants,
        "until": st.none() | instants,
        "tags": st.none() | st.lists(st.sampled_from(TAGS), min_size=1, unique=True),
        "tag_mode": st.sampled_from(["any", "all"]),
    }
)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(journal=st.lists(trades(), max_size=25))
def test_every_stats_field_matches_the_reference(journal):
    owner_id, client = new_client()
    if journal:
        entries_bulk_create(owner_id=owner_id, items=journal)
    check(owner_id, client)


@PROPERTY
@given(journal=st.lists(trades(), min_size=1, max_size=25), chosen=filters)
def test_every_stats_field_matches_the_reference_under_filters(journal, chosen):
    owner_id, client = new_client()
    entries_bulk_create(owner_id=owner_id, items=journal)
    other_id, _ = new_client()  # noise that must never be counted
    entries_bulk_create(owner_id=other_id, items=journal[:3])
    check(owner_id, client, **chosen)


# --- named situations --------------------------------------------------------------


def trade(pnl: str | None, day: float, **overrides: Any) -> dict[str, Any]:
    """A closed EUR/USD buy 1.1 → 1.105 (stop 1.095) closing on `day`, with pnl."""
    closed_at = START + timedelta(days=day)
    values = {
        "pair": "EUR/USD",
        "direction": "buy",
        "entry_price": D("1.1"),
        "stop_loss": D("1.095"),
        "exit_price": D("1.105"),
        "quantity": D("1000"),
        "opened_at": START,
        "closed_at": closed_at,
        "pnl": None if pnl is None else D(pnl),
    }
    values.update(overrides)
    return values


def open_trade(day: float, **overrides: Any) -> dict[str, Any]:
    return {**trade(None, day), "exit_price": None, "closed_at": None, **overrides}


SITUATIONS = {
    "no trades": [],
    "one trade": [trade("12.5", 1)],
    "only wins": [trade("1", 1), trade("2", 2), trade("3.5", 3)],
    "only losses": [trade("-1", 1), trade("-2", 2), trade("-0.00000001", 3)],
    "breakevens break streaks": [
        trade("1", 1),
        trade("1", 2),
        trade("0", 3),
        trade("1", 4),
        trade("-1", 5),
        trade("-1", 6),
        trade("0", 7),
        trade("-1", 8),
    ],
    "ties on closed_at are ordered by id": [
        trade("5", 1),
        trade("-8", 1),
        trade("4", 1),
        trade("-1", 1),
    ],
    "open trades mixed in": [
        trade("3", 1),
        open_trade(2),
        trade("-2", 3),
        open_trade(4),
    ],
    "decimals with many places": [
        trade("123456.78901234", 1),
        trade("-0.00000001", 2),
        trade("-123456.78901233", 3),
        trade("0.1", 4),
        trade("0.2", 5),
        trade("-0.3", 6),
    ],
    "drawdown from a peak after an early loss": [
        trade("-5", 1),
        trade("10", 2),
        trade("-7", 3),
        trade("-1", 4),
        trade("20", 5),
        trade("-25", 6),
    ],
    "identical R multiples have no sqn": [
        trade(None, 1),
        trade(None, 2),
        trade(None, 3),
    ],
    "R multiples summing to zero": [
        trade(None, 1, exit_price=D("1.1005")),
        trade(None, 2, exit_price=D("1.101")),
        trade(None, 3, exit_price=D("1.0985")),
    ],
    # Past 9e10 in magnitude SQLite's integer units would overflow: its doubles.
    "amounts beyond SQLite's integer sums": [
        trade("4000000000000000", 1),
        trade("-1500000000000000", 2),
        trade("2500000000000000.5", 3),
        trade(None, 4, pair="BTC/USDT", exit_price=D("9000000"), entry_price=D("1")),
    ],
    "month boundaries in UTC": [
        trade("1", 30.99),
        trade("2", 31),
        trade("4", 58.999),
        trade("8", 59.001),
    ],
}


@pytest.mark.parametrize("situation", SITUATIONS)
def test_stats_match_the_reference_in_named_situations(situation):
    owner_id, client = new_client()
    if SITUATIONS[situation]:
        entries_bulk_create(owner_id=owner_id, items=SITUATIONS[situation])
    check(owner_id, client)


def test_named_situations_give_the_expected_headline_numbers():
    owner_id, client = new_client()
    entries_bulk_create(owner_id=owner_id, items=SITUATIONS["breakevens break streaks"])
    body = check(owner_id, client)
    assert (body["longest_win_streak"], body["longest_loss_streak"]) == (2, 2)
    owner_id, client = new_client()
    entries_bulk_create(
        owner_id=owner_id, items=SITUATIONS["ties on closed_at are ordered by id"]
    )
    assert check(owner_id, client)["max_drawdown"] == 8
    owner_id, client = new_client()
    entries_bulk_create(
        owner_id=owner_id, items=SITUATIONS["decimals with many places"]
    )
    body = check(owner_id, client)
    assert body["total_pnl"] == 0 and body["max_drawdown"] == 123456.78901234
    owner_id, client = new_client()
    entries_bulk_create(
        owner_id=owner_id, items=SITUATIONS["identical R multiples have no sqn"]
    )
    assert check(owner_id, client)["sqn"] is None
    owner_id, client = new_client()
    entries_bulk_create(owner_id=owner_id, items=SITUATIONS["month boundaries in UTC"])
    assert [row["month"] for row in check(owner_id, client)["by_month"]] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]


@pytest.mark.parametrize(
    "name, chosen",
    [
        ("one pair", {"pairs": ["USD/JPY"]}),
        ("two pairs", {"pairs": ["USD/JPY", "EUR/USD"]}),
        ("setup", {"setup": "breakout"}),
        ("since", {"since": START + timedelta(days=3)}),
        ("until", {"until": START + timedelta(days=3)}),
        (
            "period",
            {"since": START + timedelta(days=2), "until": START + timedelta(days=4)},
        ),
    ],
)
def test_each_stats_filter_matches_the_reference(name, chosen):
    owner_id, client = new_client()
    jpy = {"pair": "USD/JPY", "entry_price": D("150"), "stop_loss": D("149")}
    entries_bulk_create(
        owner_id=owner_id,
        items=[
            trade("5", 1, setup="breakout"),
            trade(None, 2, **jpy, exit_price=D("151")),
            trade("-3", 3, setup="breakout"),
            trade("-1", 3, **jpy, exit_price=D("149.5"), setup="breakout"),
            open_trade(0, opened_at=START + timedelta(days=3)),
            trade("2", 4),
            trade("7", 5, setup="breakout"),
        ],
    )
    check(owner_id, client, **chosen)


def test_stats_use_at_most_five_queries(django_assert_max_num_queries):
    owner_id, _ = new_client()
    entries_bulk_create(
        owner_id=owner_id, items=SITUATIONS["open trades mixed in"] * 20
    )
    with django_assert_max_num_queries(3):
        JournalEntry.objects.for_owner(owner_id).totals()
    # and two for the breakdowns: the accounts' time zones, the grouped statement
    with django_assert_max_num_queries(5):
        JournalEntry.objects.for_owner(owner_id).filter(pair="EUR/USD").stats()


def test_stats_of_an_empty_filter_run_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        stats = JournalEntry.objects.none().stats()
    assert stats["total_trades"] == 0 and stats["by_pair"] == []


@pytest.mark.postgresql
def test_the_owners_list_walks_its_index_without_sorting(django_user_model):
    owners = [django_user_model.objects.create(username=f"owner-{n}") for n in range(5)]
    accounts = {owner: account_default(owner_id=owner.id) for owner in owners}
    rows = [
        JournalEntry(
            owner=owner,
            account=accounts[owner],
            pair=PAIRS[n % len(PAIRS)],
            direction="buy",
            entry_price=D("1.1"),
            quantity=D("1"),
            opened_at=START + timedelta(minutes=n),
        )
        for owner in owners
        for n in range(1000)
    ]
    JournalEntry.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE journal_journalentry")
    page = JournalEntry.objects.for_owner(owners[0]).for_api()[:50]
    plan = page.explain()
    assert "idx_journal_owner_opened" in plan, plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
