import math
from datetime import timedelta
from decimal import Decimal

import pytest

from journal.models import JournalEntry
from journal.tests.factories import START, JournalEntryFactory, closed, entry_payload
from journal.tests.test_querysets import BREAKDOWNS
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db
ENTRY_FIELDS = {
    "id",
    "account",
    "fees",
    "swap",
    "gross_pnl",
    "tags",
    "signal",
    "pair",
    "direction",
    "entry_price",
    "exit_price",
    "stop_loss",
    "take_profit",
    "quantity",
    "opened_at",
    "closed_at",
    "pnl",
    "pips",
    "r_multiple",
    "mae_pips",
    "mfe_pips",
    "mae_r",
    "mfe_r",
    "outcome",
    "setup",
    "notes",
    "created_at",
    "updated_at",
}
EMPTY_STATS = {
    "total_trades": 0,
    "open_trades": 0,
    "closed_trades": 0,
    "wins": 0,
    "losses": 0,
    "breakevens": 0,
    "win_rate": None,
    "total_pnl": 0,
    "total_fees": 0,
    "total_swap": 0,
    "gross_pnl": 0,
    "gross_profit": 0,
    "gross_loss": 0,
    "profit_factor": None,
    "avg_win": None,
    "avg_loss": None,
    "expectancy": None,
    "avg_r_multiple": None,
    "total_pips": 0,
    "largest_win": None,
    "largest_loss": None,
    "max_drawdown": 0,
    "longest_win_streak": 0,
    "longest_loss_streak": 0,
    "payoff_ratio": None,
    "sqn": None,
    "by_pair": [],
    "by_month": [],
}


def without_breakdowns(body: dict) -> dict:
    return {name: value for name, value in body.items() if name not in BREAKDOWNS}


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/journal/"),
        ("post", "/api/journal/"),
        ("get", "/api/journal/1/"),
        ("patch", "/api/journal/1/"),
        ("delete", "/api/journal/1/"),
        ("post", "/api/journal/bulk/"),
        ("get", "/api/journal/stats/"),
    ],
)
def test_anonymous_requests_are_401(api_client, method, path):
    response = getattr(api_client, method)(path, {}, format="json")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_create_returns_201_with_the_server_derived_fields(user, user_client):
    response = user_client.post("/api/journal/", entry_payload(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == ENTRY_FIELDS
    assert {k: body[k] for k in ("pnl", "pips", "r_multiple", "outcome")} == {
        "pnl": 50.0,
        "pips": 50.0,
        "r_multiple": 1.0,
        "outcome": "win",
    }
    assert body["entry_price"] == 1.1 and body["quantity"] == 10000
    assert body["opened_at"] == "2026-01-05T10:00:00Z"
    assert body["created_at"].endswith("Z") and body["signal"] is None
    stored = JournalEntry.objects.get(pk=body["id"])
    assert stored.owner == user and stored.pnl == Decimal("50")
    assert stored.entry_price == Decimal("1.1")


def test_an_entry_without_exit_is_open_and_pending(user_client):
    body = user_client.post(
        "/api/journal/",
        entry_payload(exit_price=None, closed_at=None),
        format="json",
    ).json()
    assert body["outcome"] == "pending"
    assert body["pnl"] is None and body["pips"] is None and body["r_multiple"] is None


def test_a_sell_of_a_jpy_pair_counts_pips_of_0_01(user_client):
    body = user_client.post(
        "/api/journal/",
        entry_payload(
            pair="USD/JPY",
            direction="sell",
            entry_price=150,
            stop_loss=151,
            take_profit=148,
            exit_price=149.25,
            quantity=2,
        ),
        format="json",
    ).json()
    assert (body["pips"], body["pnl"], body["r_multiple"]) == (75.0, 1.5, 0.75)


def test_the_clients_pnl_is_kept_and_decides_the_outcome(user_client):
    body = user_client.post(
        "/api/journal/", entry_payload(pnl=-12.5), format="json"
    ).json()
    assert body["pnl"] == -12.5 and body["outcome"] == "loss"
    assert body["r_multiple"] == 1.0  # the price move, whatever the pnl


def test_an_entry_created_with_a_signal_takes_its_levels_unless_given(user_client):
    signal = SignalFactory(
        pair="GBP/USD",
        direction="sell",
        entry_price=Decimal("1.3"),
        stop_loss=Decimal("1.31"),
        take_profit=Decimal("1.28"),
    )
    payload = {
        "signal": signal.id,
        "quantity": 1000,
        "opened_at": "2026-01-05T10:00:00Z",
        "exit_price": 1.29,
        "closed_at": "2026-01-05T11:00:00Z",
    }
    body = user_client.post("/api/journal/", payload, format="json").json()
    assert body["signal"] == signal.id
    assert (body["pair"], body["direction"], body["entry_price"]) == (
        "GBP/USD",
        "sell",
        1.3,
    )
    assert (body["stop_loss"], body["take_profit"]) == (1.31, 1.28)
    assert body["r_multiple"] == 1.0 and body["pnl"] == 10.0
    body = user_client.post(
        "/api/journal/", {**payload, "entry_price": 1.295}, format="json"
    ).json()
    assert body["entry_price"] == 1.295 and body["pair"] == "GBP/USD"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"signal": 999999}, "signal"),
        ({"signal": "abc"}, "signal"),
        ({"entry_price": "abc"}, "entry_price"),
        ({"entry_price": None}, "entry_price"),
        ({"entry_price": 0}, "entry_price"),
        ({"exit_price": 1.123456789}, "exit_price"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"quantity": None}, "quantity"),
        ({"opened_at": "yesterday"}, "opened_at"),
        ({"direction": "long"}, "direction"),
        ({"pair": "eurusd"}, "pair"),
        ({"pnl": "lots"}, "pnl"),
        ({"closed_at": None}, "closed_at"),
        ({"exit_price": None}, "exit_price"),
        ({"closed_at": "2026-01-05T09:59:59Z"}, "closed_at"),
        ({"stop_loss": 1.1}, "stop_loss"),
        ({"exit_price": None, "closed_at": None, "pnl": 5}, "pnl"),
    ],
)
def test_invalid_create_is_400_naming_the_field_and_writes_nothing(
    user_client, change, field
):
    response = user_client.post("/api/journal/", entry_payload(**change), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize("field", ["pair", "direction", "entry_price", "quantity"])
def test_create_without_a_required_field_is_400_naming_it(user_client, field):
    payload = entry_payload()
    del payload[field]
    response = user_client.post("/api/journal/", payload, format="json")
    assert response.status_code == 400
    assert response.json()[field] == ["This field is required."]


def test_the_owner_cannot_be_chosen_by_the_client(user, other_user, user_client):
    body = user_client.post(
        "/api/journal/", entry_payload(owner=other_user.id), format="json"
    ).json()
    assert JournalEntry.objects.get(pk=body["id"]).owner == user


def test_list_is_newest_opened_first_with_the_contract_page_body(user, user_client):
    old = JournalEntryFactory(owner=user, opened_at=START)
    tie_low = JournalEntryFactory(owner=user, opened_at=START + timedelta(hours=1))
    tie_high = JournalEntryFactory(owner=user, opened_at=START + timedelta(hours=1))
    response = user_client.get("/api/journal/")
    assert response.status_code == 200
    body = response.json()
    assert {
        k: body[k]
        for k in ("count", "page", "page_size", "total_pages", "has_next", "next")
    } == {
        "count": 3,
        "page": 1,
        "page_size": 50,
        "total_pages": 1,
        "has_next": False,
        "next": None,
    }
    assert [item["id"] for item in body["results"]] == [tie_high.id, tie_low.id, old.id]
    assert set(body["results"][0]) == ENTRY_FIELDS


def test_list_pages(user, user_client):
    JournalEntryFactory.create_batch(5, owner=user)
    body = user_client.get("/api/journal/?page=2&page_size=2").json()
    assert body["page"] == 2 and body["total_pages"] == 3 and len(body["results"]) == 2
    assert "page=3" in body["next"] and "page=1" in body["previous"]
    assert user_client.get("/api/journal/?page=4&page_size=2").status_code == 404
    assert "page_size" in user_client.get("/api/journal/?page_size=0").json()


def test_list_filters_combine(user, user_client):
    keep = JournalEntryFactory(
        owner=user,
        pair="GBP/USD",
        setup="breakout",
        **closed(exit_price=Decimal("1.2")),
    )
    JournalEntryFactory(owner=user, pair="GBP/USD", setup="breakout")  # pending
    JournalEntryFactory(
        owner=user,
        pair="GBP/USD",
        setup="pullback",
        **closed(exit_price=Decimal("1.2")),
    )
    JournalEntryFactory(
        owner=user,
        pair="AUD/USD",
        setup="breakout",
        **closed(exit_price=Decimal("1.2")),
    )
    body = user_client.get(
        "/api/journal/?pair=GBP/USD,USD/JPY&outcome=win&setup=breakout"
    ).json()
    assert [item["id"] for item in body["results"]] == [keep.id]
    assert user_client.get("/api/journal/?pair=GBP/USD").json()["count"] == 3


def test_since_and_until_are_inclusive_on_opened_at(user, user_client):
    first = JournalEntryFactory(owner=user, opened_at=START)
    second = JournalEntryFactory(owner=user, opened_at=START + timedelta(hours=1))
    JournalEntryFactory(owner=user, opened_at=START + timedelta(days=1))
    body = user_client.get(
        "/api/journal/?since=2026-01-05T00:00:00Z&until=2026-01-05T01:00:00Z"
    ).json()
    assert {item["id"] for item in body["results"]} == {first.id, second.id}
    assert user_client.get("/api/journal/?until=2026-01-05").json()["count"] == 2
    assert user_client.get("/api/journal/?since=2026-01-06").json()["count"] == 1


@pytest.mark.parametrize(
    "query, name",
    [
        ("pair=eurusd", "pair"),
        ("pair=EUR/USD,bad", "pair"),
        ("outcome=won", "outcome"),
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
    ],
)
def test_malformed_filters_are_400_naming_the_parameter(user_client, query, name):
    for path in ("/api/journal/", "/api/journal/stats/"):
        if name == "outcome" and path.endswith("stats/"):
            continue  # stats filter by pair, setup and period only
        response = user_client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert name in response.json()


def test_detail_shows_an_own_entry(user, user_client):
    entry = JournalEntryFactory(owner=user, notes="calm", **closed())
    response = user_client.get(f"/api/journal/{entry.id}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ENTRY_FIELDS
    assert (body["id"], body["notes"], body["pips"]) == (entry.id, "calm", 50.0)
    assert user_client.get("/api/journal/999999/").status_code == 404


def test_another_users_entry_is_404_for_every_method(user, other_client):
    entry = JournalEntryFactory(owner=user, notes="mine")
    path = f"/api/journal/{entry.id}/"
    assert other_client.get(path).status_code == 404
    response = other_client.patch(path, {"notes": "theirs"}, format="json")
    assert response.status_code == 404
    assert other_client.delete(path).status_code == 404
    entry.refresh_from_db()
    assert entry.notes == "mine"


def test_lists_and_stats_never_include_another_users_entries(
    user, other_user, user_client, other_client
):
    mine = JournalEntryFactory(owner=user, **closed())
    JournalEntryFactory(owner=other_user, **closed(exit_price=Decimal("1.09")))
    JournalEntryFactory(owner=other_user)
    body = user_client.get("/api/journal/").json()
    assert [item["id"] for item in body["results"]] == [mine.id]
    stats = user_client.get("/api/journal/stats/").json()
    assert stats["total_trades"] == 1 and stats["losses"] == 0
    assert other_client.get("/api/journal/stats/").json()["total_trades"] == 2


def test_put_is_405(user, user_client):
    entry = JournalEntryFactory(owner=user)
    response = user_client.put(
        f"/api/journal/{entry.id}/", entry_payload(), format="json"
    )
    assert response.status_code == 405


def test_patch_closes_an_entry_and_derives_its_fields(user, user_client):
    entry = JournalEntryFactory(owner=user, opened_at=START)
    response = user_client.patch(
        f"/api/journal/{entry.id}/",
        {"exit_price": 1.09, "closed_at": "2026-01-05T05:00:00Z"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["pnl"], body["pips"], body["r_multiple"], body["outcome"]) == (
        -100.0,
        -100.0,
        -2.0,
        "loss",
    )
    entry.refresh_from_db()
    assert entry.outcome == "loss" and entry.closed_at is not None


def test_patch_with_an_exit_but_no_close_time_is_400_and_changes_nothing(
    user, user_client
):
    entry = JournalEntryFactory(owner=user, notes="before")
    response = user_client.patch(
        f"/api/journal/{entry.id}/",
        {"exit_price": 1.2, "notes": "after"},
        format="json",
    )
    assert response.status_code == 400 and "closed_at" in response.json()
    entry.refresh_from_db()
    assert entry.exit_price is None and entry.notes == "before"


def test_patch_keeps_a_clients_pnl_until_it_is_cleared(user, user_client):
    entry = JournalEntryFactory(owner=user, pnl=Decimal("7"), **closed())
    path = f"/api/journal/{entry.id}/"
    body = user_client.patch(path, {"exit_price": 1.09}, format="json").json()
    assert body["pnl"] == 7.0 and body["outcome"] == "win" and body["pips"] == -100
    body = user_client.patch(path, {"pnl": None}, format="json").json()
    assert body["pnl"] == -100.0 and body["outcome"] == "loss"


def test_reopening_an_entry_clears_its_results(user, user_client):
    entry = JournalEntryFactory(owner=user, pnl=Decimal("7"), **closed())
    body = user_client.patch(
        f"/api/journal/{entry.id}/",
        {"exit_price": None, "closed_at": None},
        format="json",
    ).json()
    assert body["outcome"] == "pending" and body["pnl"] is None
    entry.refresh_from_db()
    assert entry.pnl_manual is False


def test_derived_fields_are_read_only(user, user_client):
    entry = JournalEntryFactory(owner=user, **closed())
    body = user_client.patch(
        f"/api/journal/{entry.id}/",
        {"outcome": "loss", "pips": 1, "r_multiple": 9},
        format="json",
    ).json()
    assert (body["outcome"], body["pips"], body["r_multiple"]) == ("win", 50.0, 1.0)


def test_delete_removes_an_own_entry(user, user_client):
    entry = JournalEntryFactory(owner=user)
    assert user_client.delete(f"/api/journal/{entry.id}/").status_code == 204
    assert not JournalEntry.objects.exists()
    assert user_client.delete(f"/api/journal/{entry.id}/").status_code == 404


def test_bulk_creates_all_and_returns_ids_in_input_order(user, user_client):
    items = [
        entry_payload(
            opened_at=f"2026-01-0{day}T00:00:00Z", closed_at=None, exit_price=None
        )
        for day in (5, 1, 3)
    ]
    response = user_client.post("/api/journal/bulk/", items, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 3
    days = [JournalEntry.objects.get(pk=pk).opened_at.day for pk in body["ids"]]
    assert days == [5, 1, 3]
    assert set(JournalEntry.objects.values_list("owner", flat=True)) == {user.id}


def test_bulk_writes_nothing_when_one_item_is_invalid(user_client):
    items = [entry_payload() for _ in range(4)]
    items[1]["closed_at"] = None
    items[3]["quantity"] = -5
    items.append("not an object")
    response = user_client.post("/api/journal/bulk/", items, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"1", "3", "4"}
    assert "closed_at" in errors["1"] and "quantity" in errors["3"]
    assert not JournalEntry.objects.exists()


def test_bulk_looks_signals_up_once_and_rejects_unknown_ones(
    user_client, django_assert_max_num_queries
):
    signals = SignalFactory.create_batch(3)
    items = [entry_payload(signal=signal.id) for signal in signals]
    # signals, the owner's accounts, savepoint, insert, release; the default account:
    # owner lock, look-up, insert (this first time); and a constant 6 for the
    # maintained stats: owner lock, running state before and after, update, rollup
    # delete+insert
    with django_assert_max_num_queries(15):  # 1 more: the candles for excursions
        response = user_client.post("/api/journal/bulk/", items, format="json")
    assert response.status_code == 201
    items.append(entry_payload(signal=999999))
    response = user_client.post("/api/journal/bulk/", items, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"3"}
    assert "signal" in response.json()["errors"]["3"]
    assert JournalEntry.objects.count() == 3


def test_bulk_cannot_touch_another_users_entry(user, other_user, user_client):
    theirs = JournalEntryFactory(owner=other_user, notes="theirs")
    item = entry_payload(id=theirs.id, owner=other_user.id, notes="hijack")
    body = user_client.post("/api/journal/bulk/", [item], format="json").json()
    assert body["ids"] != [theirs.id]
    theirs.refresh_from_db()
    assert theirs.notes == "theirs" and theirs.owner == other_user
    assert JournalEntry.objects.get(pk=body["ids"][0]).owner == user


@pytest.mark.parametrize("body", [[], {"pair": "EUR/USD"}, "text", None])
def test_bulk_body_must_be_a_non_empty_list(user_client, body):
    response = user_client.post("/api/journal/bulk/", body, format="json")
    assert response.status_code == 400


def test_bulk_over_the_limit_is_400(user_client, settings):
    settings.BULK_MAX_ITEMS = 2
    response = user_client.post(
        "/api/journal/bulk/", [entry_payload()] * 3, format="json"
    )
    assert response.status_code == 400
    assert not JournalEntry.objects.exists()


def test_stats_of_no_entries_is_the_contracts_zero_answer(user_client):
    response = user_client.get("/api/journal/stats/")
    assert response.status_code == 200
    body = response.json()
    assert without_breakdowns(body) == EMPTY_STATS
    assert body["by_tag"] == [] and body["exit_efficiency"] is None
    assert [row["trades"] for row in body["by_hour"]] == [0] * 24
    assert body["by_weekday"][0] == {
        "weekday": 0,
        "trades": 0,
        "wins": 0,
        "losses": 0,
        "win_rate": None,
        "total_pnl": 0,
        "expectancy": None,
    }


def test_stats_of_a_small_journal(user, user_client):
    # Closing order: +50 (win), −100 (loss), 0 (breakeven), +150 (win); one open.
    JournalEntryFactory(owner=user, setup="a", **closed(1))
    JournalEntryFactory(owner=user, setup="a", **closed(2, exit_price=Decimal("1.09")))
    JournalEntryFactory(owner=user, setup="b", **closed(3, exit_price=Decimal("1.1")))
    JournalEntryFactory(
        owner=user,
        pair="USD/JPY",
        entry_price=Decimal("150"),
        stop_loss=Decimal("149"),
        quantity=Decimal("100"),
        **closed(4, exit_price=Decimal("151.5")),
    )
    JournalEntryFactory(owner=user, opened_at=START + timedelta(days=40))
    body = without_breakdowns(user_client.get("/api/journal/stats/").json())
    assert body == {
        "total_trades": 5,
        "open_trades": 1,
        "closed_trades": 4,
        "wins": 2,
        "losses": 1,
        "breakevens": 1,
        "win_rate": 0.5,
        "total_pnl": 100.0,
        "total_fees": 0.0,
        "total_swap": 0.0,
        "gross_pnl": 100.0,
        "gross_profit": 200.0,
        "gross_loss": 100.0,
        "profit_factor": 2.0,
        "avg_win": 100.0,
        "avg_loss": -100.0,
        "expectancy": 25.0,
        "avg_r_multiple": pytest.approx((1 - 2 + 0 + 1.5) / 4),
        "total_pips": 50 - 100 + 0 + 150,
        "largest_win": 150.0,
        "largest_loss": -100.0,
        "max_drawdown": 100.0,
        "longest_win_streak": 1,
        "longest_loss_streak": 1,
        "payoff_ratio": 1.0,
        # R: 1, −2, 0, 1.5; mean 0.125; squared deviations add up to 7.1875.
        "sqn": pytest.approx(math.sqrt(4) * 0.125 / math.sqrt(7.1875 / 3)),
        "by_pair": [
            {
                "pair": "EUR/USD",
                "trades": 3,
                "wins": 1,
                "losses": 1,
                "win_rate": pytest.approx(1 / 3),
                "total_pnl": -50.0,
                "total_pips": -50.0,
            },
            {
                "pair": "USD/JPY",
                "trades": 1,
                "wins": 1,
                "losses": 0,
                "win_rate": 1.0,
                "total_pnl": 150.0,
                "total_pips": 150.0,
            },
        ],
        "by_month": [{"month": "2026-01", "trades": 4, "wins": 2, "total_pnl": 100.0}],
    }
    body = user_client.get("/api/journal/stats/?setup=a&pair=EUR/USD").json()
    assert (body["total_trades"], body["total_pnl"]) == (2, -50.0)


def test_stats_period_is_on_closed_at_for_closed_and_opened_at_for_open(
    user, user_client
):
    # Opened in January, closed in February: counted in February only.
    late = START + timedelta(days=31)
    JournalEntryFactory(
        owner=user, opened_at=START, closed_at=late, exit_price=Decimal("1.2")
    )
    JournalEntryFactory(owner=user, opened_at=START)  # open since January
    feb = user_client.get("/api/journal/stats/?since=2026-02-01").json()
    jan = user_client.get("/api/journal/stats/?until=2026-01-31").json()
    assert (feb["total_trades"], feb["closed_trades"], feb["open_trades"]) == (1, 1, 0)
    assert (jan["total_trades"], jan["closed_trades"], jan["open_trades"]) == (1, 0, 1)
    both = user_client.get(
        f"/api/journal/stats/?since=2026-01-05&until={late.isoformat()}"
    ).json()
    assert both["total_trades"] == 2


def test_by_pair_lists_pairs_with_only_open_entries_with_a_null_win_rate(
    user, user_client
):
    JournalEntryFactory(owner=user, pair="AUD/USD")
    body = user_client.get("/api/journal/stats/").json()
    assert body["by_pair"] == [
        {
            "pair": "AUD/USD",
            "trades": 0,
            "wins": 0,
            "losses": 0,
            "win_rate": None,
            "total_pnl": 0,
            "total_pips": 0,
        }
    ]
    assert body["by_month"] == []


@pytest.mark.parametrize("path", ["/api/journal/", "/api/journal/stats/"])
def test_reads_run_a_constant_number_of_queries(
    user, user_client, django_assert_max_num_queries, path
):
    JournalEntryFactory.create_batch(3, owner=user, **closed())
    # stats: 3 (filtered: any on SQLite) + 2 for the breakdowns; list: count, page,
    # the page's tags
    limit = 5 if path.endswith("stats/") else 3
    with django_assert_max_num_queries(limit):
        assert user_client.get(path).status_code == 200
    JournalEntryFactory.create_batch(40, owner=user)
    JournalEntryFactory.create_batch(20, owner=user, **closed(exit_price=Decimal("1")))
    with django_assert_max_num_queries(limit):
        assert user_client.get(path + "?page_size=60").status_code == 200


def test_detail_runs_two_queries(user, user_client, django_assert_num_queries):
    entry = JournalEntryFactory(owner=user)
    with django_assert_num_queries(2):  # the entry, its tags
        assert user_client.get(f"/api/journal/{entry.id}/").status_code == 200


def test_cached_list_is_per_user(
    user, other_user, user_client, other_client, any_cache
):
    mine = JournalEntryFactory(owner=user)
    first = user_client.get("/api/journal/")
    assert first["X-Cache"] == "MISS"
    assert user_client.get("/api/journal/")["X-Cache"] == "HIT"
    theirs = other_client.get("/api/journal/")
    assert theirs["X-Cache"] == "MISS" and theirs.json()["count"] == 0
    assert [item["id"] for item in first.json()["results"]] == [mine.id]
    assert other_client.get("/api/journal/stats/").json()["total_trades"] == 0


def test_a_write_is_visible_to_the_next_read(
    user, user_client, django_capture_on_commit_callbacks, any_cache
):
    entry = JournalEntryFactory(owner=user, notes="old", opened_at=START)
    detail = f"/api/journal/{entry.id}/"
    for path in ("/api/journal/", detail, "/api/journal/stats/"):
        user_client.get(path)
        assert user_client.get(path)["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.patch(
            detail,
            {"notes": "new", "exit_price": 1.2, "closed_at": "2026-01-06T00:00:00Z"},
            format="json",
        )
    assert response.status_code == 200
    assert user_client.get(detail).json()["notes"] == "new"
    assert user_client.get("/api/journal/").json()["results"][0]["notes"] == "new"
    assert user_client.get("/api/journal/stats/").json()["wins"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post("/api/journal/bulk/", [entry_payload()], format="json")
    assert user_client.get("/api/journal/").json()["count"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        user_client.delete(detail)
    assert user_client.get(detail).status_code == 404
    assert user_client.get("/api/journal/stats/").json()["total_trades"] == 1


def test_another_users_write_does_not_invalidate_my_cache(
    user, user_client, other_client, django_capture_on_commit_callbacks, any_cache
):
    JournalEntryFactory(owner=user)
    user_client.get("/api/journal/")
    with django_capture_on_commit_callbacks(execute=True):
        other_client.post("/api/journal/", entry_payload(), format="json")
    assert user_client.get("/api/journal/")["X-Cache"] == "HIT"


def test_pips_past_their_column_are_a_400_naming_the_exit(user, user_client, settings):
    # A pip override of 1e-9 turns a move of ~1e12 into ~1e21 pips: past numeric(30, 10).
    settings.PIP_SIZES = {"ZZZ/USD": "0.000000001"}
    body = entry_payload(
        pair="ZZZ/USD", exit_price="999999999999", closed_at="2026-01-06T00:00:00Z"
    )
    response = user_client.post("/api/journal/", body, format="json")
    assert response.status_code == 400 and set(response.json()) == {"exit_price"}
    bulk = user_client.post("/api/journal/bulk/", [body], format="json")
    assert bulk.status_code == 400
    assert set(bulk.json()["errors"]["0"]) == {"exit_price"}
    entry = JournalEntryFactory(
        owner=user, pair="ZZZ/USD", exit_price=None, closed_at=None
    )
    patch = user_client.patch(
        f"/api/journal/{entry.id}/",
        {"exit_price": body["exit_price"], "closed_at": "2030-01-01T00:00:00Z"},
        format="json",
    )
    assert patch.status_code == 400 and set(patch.json()) == {"exit_price"}
    assert JournalEntry.objects.count() == 1


@pytest.mark.parametrize("field", ["quantity", "entry_price", "exit_price"])
def test_a_price_within_rounding_of_its_column_limit_is_a_400_not_a_broken_row(
    user_client, field
):
    # Found by the stateful fuzzer: SQLite keeps decimals as floats, so this value
    # was stored as 1e12, which the column cannot hold, and every read of it failed.
    body = entry_payload(**{field: "999999999999.99999999"})
    response = user_client.post("/api/journal/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert user_client.get("/api/journal/").status_code == 200
