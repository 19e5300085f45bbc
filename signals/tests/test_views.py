from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from signals.models import Signal
from signals.tests.factories import START, SignalFactory, signal_payload

pytestmark = pytest.mark.django_db
MINIMAL = {
    "id",
    "pair",
    "timeframe",
    "direction",
    "entry_price",
    "stop_loss",
    "take_profit",
    "confidence",
    "status",
    "outcome",
    "timestamp",
}


def test_list_returns_minimal_signals_newest_first_with_contract_page_body(api_client):
    old, new = SignalFactory(), SignalFactory()
    response = api_client.get("/api/signals/")
    assert response.status_code == 200
    body = response.json()
    assert {
        k: body[k] for k in ("count", "page", "total_pages", "has_next", "has_previous")
    } == {
        "count": 2,
        "page": 1,
        "total_pages": 1,
        "has_next": False,
        "has_previous": False,
    }
    assert body["next"] is None and body["previous"] is None
    assert [item["id"] for item in body["results"]] == [new.id, old.id]
    assert set(body["results"][0]) == MINIMAL
    assert body["results"][0]["entry_price"] == 1.1
    assert body["results"][0]["timestamp"].endswith("Z")


def test_list_pages_and_links(api_client):
    SignalFactory.create_batch(5)
    body = api_client.get("/api/signals/?page=2&page_size=2").json()
    assert body["page"] == 2 and body["page_size"] == 2 and body["total_pages"] == 3
    assert body["has_next"] and body["has_previous"]
    assert "page=3" in body["next"] and "page=1" in body["previous"]


def test_page_size_is_capped_at_max_page_size(api_client, settings):
    settings.MAX_PAGE_SIZE = 3
    SignalFactory.create_batch(4)
    body = api_client.get("/api/signals/?page_size=1000").json()
    assert body["page_size"] == 3 and len(body["results"]) == 3


@pytest.mark.parametrize(
    "query, name",
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=-1", "page"),
        ("page_size=0", "page_size"),
        ("page_size=x", "page_size"),
        ("page_size=1.5", "page_size"),
    ],
)
def test_bad_page_numbers_are_400_naming_the_parameter(api_client, query, name):
    response = api_client.get(f"/api/signals/?{query}")
    assert response.status_code == 400
    assert name in response.json()


def test_page_past_the_last_is_404(api_client):
    SignalFactory()
    assert api_client.get("/api/signals/?page=2").status_code == 404


def test_detail_has_every_field_and_unknown_id_is_404(api_client):
    signal = SignalFactory(indicators={"rsi_14": 55.5})
    body = api_client.get(f"/api/signals/{signal.id}/").json()
    assert set(body) == MINIMAL | {
        "risk_reward",
        "strategy",
        "indicators",
        "reasoning",
        "exit_price",
        "pips",
        "mae_pips",
        "mfe_pips",
        "closed_at",
        "created_at",
        "updated_at",
        "score",
        "calibration_id",
    }
    assert body["score"] is None and body["calibration_id"] is None
    assert body["risk_reward"] == 2.0 and body["indicators"] == {"rsi_14": 55.5}
    assert api_client.get("/api/signals/999999/").status_code == 404
    assert api_client.get("/api/signals/abc/").status_code == 404
    assert api_client.get("/api/signals/abc/").json() == {"detail": "Not found."}


def test_anonymous_and_unprivileged_writes_are_refused(api_client, user_client):
    assert (
        api_client.post("/api/signals/", signal_payload(), format="json").status_code
        == 401
    )
    assert (
        user_client.post("/api/signals/", signal_payload(), format="json").status_code
        == 403
    )
    assert (
        user_client.post(
            "/api/signals/bulk/", [signal_payload()], format="json"
        ).status_code
        == 403
    )
    assert not Signal.objects.exists()


def test_a_user_with_add_permission_may_create(user, user_client):
    user.user_permissions.add(Permission.objects.get(codename="add_signal"))
    response = user_client.post("/api/signals/", signal_payload(), format="json")
    assert response.status_code == 201
    signal = SignalFactory()
    assert (
        user_client.patch(
            f"/api/signals/{signal.id}/", {"confidence": 1}, format="json"
        ).status_code
        == 403
    )


def test_create_returns_detail_with_server_computed_risk_reward(staff_client):
    response = staff_client.post("/api/signals/", signal_payload(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert (
        body["risk_reward"] == 2.0
        and body["status"] == "active"
        and body["outcome"] == "pending"
    )
    stored = Signal.objects.get(pk=body["id"])
    assert stored.entry_price == Decimal("1.1") and stored.confidence == Decimal("72.5")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"stop_loss": 1.2}, "stop_loss"),
        ({"direction": "sell"}, "stop_loss"),
        ({"confidence": 100.5}, "confidence"),
        ({"confidence": -1}, "confidence"),
        ({"pair": "EURUSD"}, "pair"),
        ({"timeframe": "2h"}, "timeframe"),
        ({"entry_price": "abc"}, "entry_price"),
        ({"timestamp": "not a date"}, "timestamp"),
        ({"entry_price": None}, "entry_price"),
    ],
)
def test_invalid_create_is_400_naming_the_field(staff_client, change, field):
    response = staff_client.post(
        "/api/signals/", signal_payload(**change), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Signal.objects.exists()


def test_duplicate_signal_is_400_not_500(staff_client):
    assert (
        staff_client.post("/api/signals/", signal_payload(), format="json").status_code
        == 201
    )
    response = staff_client.post("/api/signals/", signal_payload(), format="json")
    assert response.status_code == 400 and "timestamp" in response.json()
    assert Signal.objects.count() == 1


def test_patch_updates_and_recomputes(staff_client):
    signal = SignalFactory()
    response = staff_client.patch(
        f"/api/signals/{signal.id}/",
        {
            "take_profit": 1.12,
            "exit_price": 1.105,
            "status": "closed",
            "outcome": "win",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (
        body["risk_reward"] == 4.0
        and body["pips"] == 50.0
        and body["status"] == "closed"
    )


def test_patch_keeps_levels_consistent_with_stored_direction(staff_client):
    signal = SignalFactory()
    response = staff_client.patch(
        f"/api/signals/{signal.id}/", {"take_profit": 1.0}, format="json"
    )
    assert response.status_code == 400
    signal.refresh_from_db()
    assert signal.take_profit == Decimal("1.11")


def test_put_and_delete_are_not_allowed(staff_client):
    signal = SignalFactory()
    assert (
        staff_client.put(
            f"/api/signals/{signal.id}/", signal_payload(), format="json"
        ).status_code
        == 405
    )
    assert staff_client.delete(f"/api/signals/{signal.id}/").status_code == 405


def test_bulk_create_returns_ids_in_input_order(staff_client):
    items = [signal_payload(timestamp=f"2026-01-05T{h:02d}:00:00Z") for h in (5, 1, 3)]
    response = staff_client.post("/api/signals/bulk/", items, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 3
    stamps = [Signal.objects.get(pk=pk).timestamp.hour for pk in body["ids"]]
    assert stamps == [5, 1, 3]


def test_bulk_create_writes_nothing_when_one_item_is_invalid(staff_client):
    items = [signal_payload(timestamp=f"2026-01-05T{h:02d}:00:00Z") for h in range(4)]
    items[2]["confidence"] = 101
    items[3]["pair"] = "bad"
    response = staff_client.post("/api/signals/bulk/", items, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"2", "3"}
    assert "confidence" in errors["2"] and "pair" in errors["3"]
    assert not Signal.objects.exists()


def test_bulk_create_rejects_duplicates_within_the_list_and_with_stored(staff_client):
    SignalFactory(timestamp=START)
    items = [
        signal_payload(timestamp="2026-01-05T01:00:00Z"),
        signal_payload(timestamp="2026-01-05T01:00:00Z"),
        signal_payload(timestamp=START.isoformat()),
    ]
    response = staff_client.post("/api/signals/bulk/", items, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"1", "2"}
    assert Signal.objects.count() == 1


@pytest.mark.parametrize("body", [[], {"pair": "EUR/USD"}, "text", None])
def test_bulk_body_must_be_a_non_empty_list(staff_client, body):
    for method in (staff_client.post, staff_client.patch):
        response = method("/api/signals/bulk/", body, format="json")
        assert response.status_code == 400


def test_bulk_create_over_the_limit_is_400(staff_client, settings):
    settings.BULK_MAX_ITEMS = 2
    items = [signal_payload(timestamp=f"2026-01-05T{h:02d}:00:00Z") for h in range(3)]
    assert (
        staff_client.post("/api/signals/bulk/", items, format="json").status_code == 400
    )


def test_bulk_update_changes_all_listed_signals(staff_client):
    first, second = SignalFactory(), SignalFactory()
    response = staff_client.patch(
        "/api/signals/bulk/",
        [
            {"id": first.id, "status": "cancelled"},
            {"id": second.id, "confidence": 99.5},
        ],
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"updated": 2}
    first.refresh_from_db(), second.refresh_from_db()
    assert first.status == "cancelled" and second.confidence == Decimal("99.5")
    assert second.status == "active"


def test_bulk_update_with_an_unknown_id_changes_nothing(staff_client):
    signal = SignalFactory()
    response = staff_client.patch(
        "/api/signals/bulk/",
        [{"id": signal.id, "status": "cancelled"}, {"id": 999999, "status": "closed"}],
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"errors": {"1": {"id": ["No signal with id 999999."]}}}
    signal.refresh_from_db()
    assert signal.status == "active"


def test_bulk_update_with_an_invalid_item_changes_nothing(staff_client):
    first, second = SignalFactory(), SignalFactory()
    response = staff_client.patch(
        "/api/signals/bulk/",
        [
            {"id": first.id, "status": "cancelled"},
            {"id": second.id, "stop_loss": 2},
            {"status": "closed"},
            {"id": "x"},
        ],
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"1", "2", "3"}
    first.refresh_from_db()
    assert first.status == "active"


def test_stats_aggregates_with_calibration(api_client):
    SignalFactory(
        confidence=Decimal("80"), outcome="win", status="closed", pips=Decimal("100")
    )
    SignalFactory(
        confidence=Decimal("100"), outcome="win", status="closed", pips=Decimal("20")
    )
    SignalFactory(
        confidence=Decimal("60"), outcome="loss", status="closed", pips=Decimal("-50")
    )
    SignalFactory(
        pair="USD/JPY",
        entry_price=Decimal("150"),
        stop_loss=Decimal("149"),
        take_profit=Decimal("152"),
        confidence=Decimal("40"),
    )
    body = api_client.get("/api/signals/stats/").json()
    assert body["total"] == 4
    assert body["by_status"] == {"active": 1, "closed": 3, "expired": 0, "cancelled": 0}
    assert body["by_outcome"] == {"pending": 1, "win": 2, "loss": 1, "breakeven": 0}
    assert body["win_rate"] == pytest.approx(2 / 3)
    assert body["avg_confidence"] == pytest.approx(70)
    assert body["total_pips"] == pytest.approx(70)
    assert [p["pair"] for p in body["by_pair"]] == ["EUR/USD", "USD/JPY"]
    eur = body["by_pair"][0]
    assert (eur["total"], eur["wins"], eur["losses"]) == (3, 2, 1)
    assert eur["avg_confidence"] == pytest.approx(80)
    jpy = body["by_pair"][1]
    assert jpy["win_rate"] is None and jpy["total_pips"] == 0
    # Independent reference: the Brier score written out by hand.
    expected = ((0.8 - 1) ** 2 + (1.0 - 1) ** 2 + (0.6 - 0) ** 2) / 3
    assert body["calibration"]["brier_score"] == pytest.approx(expected)
    buckets = body["calibration"]["buckets"]
    assert len(buckets) == 10 and buckets[9]["max_confidence"] == 100
    assert (buckets[8]["wins"], buckets[9]["wins"], buckets[6]["losses"]) == (1, 1, 1)
    assert buckets[4]["signals"] == 0 and buckets[4]["win_rate"] is None
    assert buckets[8]["win_rate"] == 1.0


def test_stats_of_nothing(api_client):
    body = api_client.get("/api/signals/stats/?pair=EUR/USD").json()
    assert body["total"] == 0 and body["win_rate"] is None and body["by_pair"] == []
    assert body["total_pips"] == 0 and body["calibration"]["brier_score"] is None


def test_stats_respect_filters(api_client):
    SignalFactory(outcome="win", status="closed")
    SignalFactory(pair="GBP/USD", outcome="loss", status="closed")
    body = api_client.get("/api/signals/stats/?pair=GBP/USD").json()
    assert body["total"] == 1 and body["win_rate"] == 0.0


@pytest.mark.parametrize(
    "path", ["/api/signals/", "/api/signals/feed/", "/api/signals/stats/"]
)
def test_reads_run_a_constant_number_of_queries(
    api_client, django_assert_max_num_queries, path
):
    SignalFactory.create_batch(3)
    with django_assert_max_num_queries(3):
        assert api_client.get(path).status_code == 200
    SignalFactory.create_batch(40)
    with django_assert_max_num_queries(3):
        assert api_client.get(path + "?page_size=40").status_code == 200


@pytest.mark.parametrize(
    "query", ["", "?pair=EUR/USD,GBP/USD&status=active", "?outcome=win"]
)
def test_a_full_page_counts_from_the_rollup(
    api_client, django_assert_num_queries, query
):
    SignalFactory.create_batch(12)
    SignalFactory.create_batch(7, pair="GBP/USD")
    SignalFactory.create_batch(5, pair="USD/JPY", status="closed", outcome="win")
    expected = {"": 24, "?pair=EUR/USD,GBP/USD&status=active": 19}
    expected["?outcome=win"] = 5
    sep = "&" if query else "?"
    with django_assert_num_queries(2):  # the page, then the rollup's sum
        response = api_client.get(f"/api/signals/{query}{sep}page_size=5")
    assert response.status_code == 200
    assert response.json()["count"] == expected[query]
    with django_assert_num_queries(2):  # a filter it cannot answer: COUNT(*)
        response = api_client.get(
            f"/api/signals/{query}{sep}page_size=5&since=2020-01-01"
        )
    assert response.json()["count"] == expected[query]


def test_detail_runs_one_query(api_client, django_assert_num_queries):
    signal = SignalFactory()
    with django_assert_num_queries(1):
        response = api_client.get(f"/api/signals/{signal.id}/")
    assert response.status_code == 200 and response.json()["id"] == signal.id


# The fuzzer's finds: inputs whose derived values or JSON the database cannot hold.
OVERFLOWING_LEVELS = {
    "pair": "ZZA/USD",
    "entry_price": 1.1,
    "stop_loss": 1.09999999,
    "take_profit": 9999,
}


def test_create_refuses_a_risk_reward_past_its_column_naming_the_levels(staff_client):
    response = staff_client.post(
        "/api/signals/", signal_payload(**OVERFLOWING_LEVELS), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"stop_loss", "take_profit"}
    assert "risk_reward" in response.json()["stop_loss"][0]
    assert not Signal.objects.exists()


def test_bulk_create_refuses_an_overflowing_item_and_writes_nothing(staff_client):
    body = [signal_payload(), signal_payload(**OVERFLOWING_LEVELS)]
    response = staff_client.post("/api/signals/bulk/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"1"}
    assert set(response.json()["errors"]["1"]) == {"stop_loss", "take_profit"}
    assert not Signal.objects.exists()


def test_patch_refuses_levels_whose_risk_reward_overflows(staff_client):
    signal = SignalFactory()
    response = staff_client.patch(
        f"/api/signals/{signal.id}/",
        {"stop_loss": 1.09999999, "take_profit": 9999},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"stop_loss", "take_profit"}
    signal.refresh_from_db()
    assert signal.take_profit == Decimal("1.11")


def test_patch_refuses_an_exit_whose_pips_overflow(staff_client):
    signal = SignalFactory()
    response = staff_client.patch(
        f"/api/signals/{signal.id}/", {"exit_price": 999999999999}, format="json"
    )
    assert response.status_code == 400 and set(response.json()) == {"exit_price"}


def test_bulk_update_names_the_request_index_of_an_overflow(staff_client):
    first, second = SignalFactory(), SignalFactory()
    body = [
        {"id": first.id, "confidence": 60},
        {"id": second.id, "stop_loss": 1.09999999, "take_profit": 9999},
    ]
    response = staff_client.patch("/api/signals/bulk/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"1"}
    first.refresh_from_db()
    assert first.confidence != Decimal(60)


@pytest.mark.parametrize(
    "indicators",
    [{"a": "x\u0000y"}, {"a\u0000": 1}, {"a": [{"b": ["\u0000"]}]}],
    ids=["value", "key", "nested"],
)
def test_nul_anywhere_in_indicators_is_a_400_naming_it(staff_client, indicators):
    create = staff_client.post(
        "/api/signals/", signal_payload(indicators=indicators), format="json"
    )
    assert create.status_code == 400 and set(create.json()) == {"indicators"}
    bulk = staff_client.post(
        "/api/signals/bulk/", [signal_payload(indicators=indicators)], format="json"
    )
    assert bulk.status_code == 400 and set(bulk.json()["errors"]["0"]) == {"indicators"}
    signal = SignalFactory()
    patch = staff_client.patch(
        f"/api/signals/{signal.id}/", {"indicators": indicators}, format="json"
    )
    assert patch.status_code == 400 and set(patch.json()) == {"indicators"}
    assert Signal.objects.count() == 1


def test_an_exit_within_rounding_of_its_column_limit_is_a_400(staff_client):
    signal = SignalFactory()
    response = staff_client.patch(
        f"/api/signals/{signal.id}/",
        {"exit_price": "999999999999.99999999"},
        format="json",
    )
    assert response.status_code == 400 and set(response.json()) == {"exit_price"}
    assert staff_client.get(f"/api/signals/{signal.id}/").status_code == 200
