"""Query-parameter filters of the signal list, feed and stats (signals/filters.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from signals.tests.factories import START, SignalFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query, name",
    [
        ("pair=eurusd", "pair"),
        ("pair=EUR/USD,bad", "pair"),
        ("timeframe=2h", "timeframe"),
        ("direction=up", "direction"),
        ("status=open", "status"),
        ("outcome=won", "outcome"),
        ("min_confidence=high", "min_confidence"),
        ("max_confidence=nan", "max_confidence"),
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("ordering=price", "ordering"),
        ("ordering=,", "ordering"),  # found by schemathesis: was a 500
        ("ordering=confidence,", "ordering"),
    ],
)
def test_malformed_filters_are_400_naming_the_parameter(api_client, query, name):
    for path in ("/api/signals/", "/api/signals/feed/", "/api/signals/stats/"):
        if name == "ordering" and path != "/api/signals/":
            continue
        response = api_client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert name in response.json()


def test_filters_combine(api_client):
    keep = SignalFactory(
        pair="GBP/USD",
        direction="sell",
        stop_loss=Decimal("1.2"),
        entry_price=Decimal("1.1"),
        take_profit=Decimal("1.0"),
        confidence=Decimal("80"),
    )
    SignalFactory(pair="GBP/USD", confidence=Decimal("80"))
    SignalFactory(
        pair="USD/JPY",
        entry_price=Decimal("150"),
        stop_loss=Decimal("149"),
        take_profit=Decimal("152"),
        confidence=Decimal("90"),
    )
    SignalFactory(pair="EUR/USD", confidence=Decimal("10"))
    query = "pair=GBP/USD,USD/JPY&direction=sell&min_confidence=75&max_confidence=80.5"
    body = api_client.get(f"/api/signals/?{query}").json()
    assert [item["id"] for item in body["results"]] == [keep.id]
    assert api_client.get("/api/signals/?pair=GBP/USD,USD/JPY").json()["count"] == 3


def test_since_and_until_are_inclusive_and_accept_dates(api_client):
    first = SignalFactory(timestamp=START)
    second = SignalFactory(timestamp=START + timedelta(hours=1))
    SignalFactory(timestamp=START + timedelta(days=1))
    body = api_client.get(
        "/api/signals/?since=2026-01-05T00:00:00Z&until=2026-01-05T01:00:00%2B00:00"
    ).json()
    assert {item["id"] for item in body["results"]} == {first.id, second.id}
    assert api_client.get("/api/signals/?until=2026-01-05").json()["count"] == 2
    assert api_client.get("/api/signals/?since=2026-01-06").json()["count"] == 1


def test_ordering_by_confidence(api_client):
    low = SignalFactory(confidence=Decimal("10"))
    high = SignalFactory(confidence=Decimal("90"))
    body = api_client.get("/api/signals/?ordering=-confidence").json()
    assert [item["id"] for item in body["results"]] == [high.id, low.id]
    body = api_client.get("/api/signals/?ordering=confidence").json()
    assert [item["id"] for item in body["results"]] == [low.id, high.id]
