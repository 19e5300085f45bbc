"""The stats' breakdowns against a plain-Python reference over random entries.

The reference converts each opened_at with zoneinfo (the account's zone when the
selected entries' accounts share one, else UTC; each session in its city's zone),
buckets holding times and R multiples by the contract's bounds and sums pnl with
fractions. Opening times cluster around daylight-saving changes of 2026 (New York,
London, Sydney) and holding times around the buckets' bounds.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journal.models import Account, JournalEntry
from journal.services import entries_bulk_create
from journal.tests.test_querysets import (
    PROPERTY,
    assert_number,
    new_client,
    stored_entries,
)

pytestmark = pytest.mark.django_db
D = Decimal
ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
SESSIONS = [
    ("asia", "Asia/Tokyo", 0, 9),
    ("london", "Europe/London", 8, 17),
    ("new_york", "America/New_York", 8, 17),
]
HOLDING = [
    ("<5m", timedelta(minutes=5)),
    ("5m-1h", timedelta(hours=1)),
    ("1h-4h", timedelta(hours=4)),
    ("4h-1d", timedelta(days=1)),
    ("1d-1w", timedelta(weeks=1)),
    (">1w", None),
]
# Daylight-saving changes of 2026, in UTC.
CHANGES = [
    datetime(2026, 3, 8, 7, tzinfo=UTC),  # New York springs forward
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # London
    datetime(2026, 4, 4, 16, tzinfo=UTC),  # Sydney falls back
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # London falls back
    datetime(2026, 11, 1, 6, tzinfo=UTC),  # New York
]
BOUNDS = [timedelta(0)] + [bound for _, bound in HOLDING if bound]


def holding_bucket(held: timedelta) -> str:
    for label, bound in HOLDING:
        if bound is None or held < bound:
            return label
    raise AssertionError


def r_bucket(r: Fraction) -> tuple[float | None, float | None]:
    if r < -3:
        return (None, -3.0)
    if r >= 3:
        return (3.0, None)
    low = Fraction(int((r * 2).__floor__()), 2)
    return (float(low), float(low + Fraction(1, 2)))


def row(entries: list[dict]) -> dict[str, Any]:
    pnl = [Fraction(e["pnl"]) for e in entries]
    wins = sum(1 for e in entries if e["outcome"] == "win")
    return {
        "trades": len(entries),
        "wins": wins,
        "losses": sum(1 for e in entries if e["outcome"] == "loss"),
        "win_rate": Fraction(wins, len(entries)) if entries else None,
        "total_pnl": sum(pnl, Fraction(0)),
        "expectancy": sum(pnl, Fraction(0)) / len(entries) if entries else None,
    }


def reference(entries: list[dict], zones: dict[int, str]) -> dict[str, Any]:
    used = {zones[e["account"]] for e in entries}
    zone = ZoneInfo(used.pop() if len(used) == 1 else "UTC")
    closed = [e for e in entries if e["closed_at"] is not None]

    def local(entry: dict, where: ZoneInfo = zone) -> datetime:
        return entry["opened_at"].astimezone(where)

    histogram: dict[tuple, int] = {}
    for entry in closed:
        if entry["r_multiple"] is not None:
            key = r_bucket(Fraction(entry["r_multiple"]))
            histogram[key] = histogram.get(key, 0) + 1
    lows = [None] + [k / 2 for k in range(-6, 7)]
    return {
        "by_weekday": [
            {"weekday": d, **row([e for e in closed if local(e).weekday() == d])}
            for d in range(7)
        ],
        "by_hour": [
            {"hour": h, **row([e for e in closed if local(e).hour == h])}
            for h in range(24)
        ],
        "by_session": [
            {
                "session": name,
                **row(
                    [e for e in closed if start <= local(e, ZoneInfo(city)).hour < end]
                ),
            }
            for name, city, start, end in SESSIONS
        ],
        "by_holding_time": [
            {
                "holding_time": label,
                **row(
                    [
                        e
                        for e in closed
                        if holding_bucket(e["closed_at"] - e["opened_at"]) == label
                    ]
                ),
            }
            for label, _ in HOLDING
        ],
        "by_tag": [
            {"tag": tag, **row([e for e in closed if tag in e["tags"]])}
            for tag in sorted({tag for e in closed for tag in e["tags"]})
        ],
        "r_histogram": [
            {
                "from": low,
                "to": -3.0 if low is None else (None if low == 3 else low + 0.5),
                "trades": histogram.get(
                    (low, -3.0 if low is None else (None if low == 3 else low + 0.5)),
                    0,
                ),
            }
            for low in lows
        ],
    }


def assert_breakdowns(actual: dict, expected: dict) -> None:
    for name, rows in expected.items():
        assert len(actual[name]) == len(rows), name
        for got, want in zip(actual[name], rows, strict=True):
            assert set(got) == set(want), name
            for key, value in want.items():
                if isinstance(value, str) or key in ("from", "to"):
                    assert got[key] == value, (name, key)
                else:
                    assert_number(got[key], value, f"{name}.{want}.{key}")


@st.composite
def trades(draw: st.DrawFn, accounts: list[int]) -> dict[str, Any]:
    opened = draw(st.sampled_from(CHANGES)) + timedelta(
        minutes=draw(st.integers(-24 * 60, 24 * 60)),
        seconds=draw(st.sampled_from([0, 0, 59])),
    )
    trade = {
        "account": draw(st.sampled_from(accounts)),
        "pair": "EUR/USD",
        "direction": draw(st.sampled_from(["buy", "sell"])),
        "entry_price": D("1.1"),
        "stop_loss": draw(st.sampled_from([None, D("1.095"), D("1.0975")])),
        "quantity": D("1000"),
        "opened_at": opened,
        "tags": draw(st.lists(st.sampled_from(["a", "b c", "d_e"]), unique=True)),
    }
    if draw(st.integers(0, 5)):
        held = draw(st.sampled_from(BOUNDS)) + timedelta(
            seconds=draw(st.sampled_from([-1, 0, 0, 1, 1800, 86400]))
        )
        trade["closed_at"] = opened + max(held, timedelta(0))
        # Exits on multiples of 0.0025: R on the histogram's bounds (stop 1.095).
        trade["exit_price"] = D("1.1") + D("0.0025") * draw(st.integers(-14, 14))
        trade["pnl"] = draw(
            st.none() | st.decimals(min_value=D("-1e4"), max_value=D("1e4"), places=8)
        )
    return trade


@PROPERTY
@given(data=st.data())
def test_breakdowns_match_the_reference(data):
    owner_id, client = new_client()
    zones = data.draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=2))
    accounts = {
        Account.objects.create(owner_id=owner_id, name=zone, timezone=zone).id: zone
        for zone in zones
    }
    journal = data.draw(st.lists(trades(list(accounts)), max_size=20))
    objects = Account.objects.in_bulk(list(accounts))
    if journal:  # the services take accounts as the serializer gives them
        items = [{**item, "account": objects[item["account"]]} for item in journal]
        entries_bulk_create(owner_id=owner_id, items=items)
    stored = stored_entries(owner_id)
    account_of = dict(JournalEntry.objects.values_list("id", "account_id"))
    for entry in stored:
        entry["account"] = account_of[entry["id"]]
    body = client.get("/api/journal/stats/").json()
    assert_breakdowns(body, reference(stored, accounts))
    chosen = data.draw(st.sampled_from(list(accounts)))
    body = client.get(f"/api/journal/stats/?account={chosen}").json()
    mine = [entry for entry in stored if entry["account"] == chosen]
    assert_breakdowns(body, reference(mine, accounts))


def test_a_sydney_account_counts_local_weekdays_and_hours():
    owner_id, client = new_client()
    sydney = Account.objects.create(
        owner_id=owner_id, name="au", timezone="Australia/Sydney"
    )
    # Sunday 2026-01-04 22:30 UTC is Monday 09:30 in Sydney (UTC+11 in summer).
    opened = datetime(2026, 1, 4, 22, 30, tzinfo=UTC)
    entries_bulk_create(
        owner_id=owner_id,
        items=[
            {
                "account": sydney,
                "pair": "EUR/USD",
                "direction": "buy",
                "entry_price": D("1.1"),
                "quantity": D("1"),
                "opened_at": opened,
                "closed_at": opened + timedelta(minutes=5),
                "exit_price": D("1.2"),
            }
        ],
    )
    body = client.get("/api/journal/stats/").json()
    assert [r["weekday"] for r in body["by_weekday"] if r["trades"]] == [0]
    assert [r["hour"] for r in body["by_hour"] if r["trades"]] == [9]
    # 22:30 UTC: 07:30 in Tokyo (asia), 22:30 in London, 17:30 in New York.
    assert [r["session"] for r in body["by_session"] if r["trades"]] == ["asia"]
    assert [r["holding_time"] for r in body["by_holding_time"] if r["trades"]] == [
        "5m-1h"
    ]
    # A second account in another zone: the answer falls back to UTC.
    Account.objects.create(owner_id=owner_id, name="uk", timezone="Europe/London")
    other = Account.objects.get(owner_id=owner_id, name="uk")
    entries_bulk_create(
        owner_id=owner_id,
        items=[{**_open_entry(opened), "account": other}],
    )
    body = client.get("/api/journal/stats/?pair=EUR/USD").json()
    assert [r["weekday"] for r in body["by_weekday"] if r["trades"]] == [6]
    assert [r["hour"] for r in body["by_hour"] if r["trades"]] == [22]


def _open_entry(opened: datetime) -> dict[str, Any]:
    return {
        "pair": "EUR/USD",
        "direction": "buy",
        "entry_price": D("1.1"),
        "quantity": D("1"),
        "opened_at": opened,
    }
