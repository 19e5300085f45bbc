"""Query-parameter filters of the signal list, feed and stats (signals/filters.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from signals.filters import SignalFilter, SignalListFilter, simple_filter
from signals.models import Signal
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
        ("strategy=" + "x" * 51, "strategy"),
        ("strategy=trend_momentum,", "strategy"),
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


# Values the shortcut takes (valid pair lists and choices; page parameters as they
# come: pagination checks them), and values it must leave to the FilterSet.
TAKEN = {
    "pair": st.sampled_from(["EUR/USD", "EUR/USD,GBP/USD", " EUR/USD , USD/JPY "]),
    "timeframe": st.sampled_from(["1h", "4h"]),
    "direction": st.sampled_from(["buy", "sell"]),
    "status": st.sampled_from(["active", "closed"]),
    "outcome": st.sampled_from(["win", "loss", "pending"]),
    "page": st.sampled_from(["1", "2", "x"]),
    "page_size": st.sampled_from(["10", "0"]),
}
REFUSED = {
    "pair": st.sampled_from(["eur/usd", "", ",", "X", "EUR/USD,bad"]),
    "timeframe": st.sampled_from(["2h", "", " 1h"]),
    "direction": st.sampled_from(["hold", ""]),
    "status": st.sampled_from(["Active", ""]),
    "outcome": st.sampled_from(["maybe", ""]),
    # Filters the shortcut never applies, whatever their value.
    "min_confidence": st.sampled_from(["50", "x"]),
    "max_confidence": st.sampled_from(["80"]),
    "since": st.sampled_from(["2026-01-05"]),
    "ordering": st.sampled_from(["-confidence", "timestamp"]),
    "unknown": st.just("1"),
}


def drawn_query(data, names: list[str], values: dict) -> QueryDict:  # type: ignore[no-untyped-def]
    query = QueryDict(mutable=True)
    for name in names:
        query.appendlist(name, data.draw(values[name], label=name))
    return query


@settings(max_examples=100, deadline=None)
@given(
    chosen=st.lists(st.sampled_from(sorted(TAKEN)), unique=True, max_size=5),
    data=st.data(),
)
def test_simple_filter_filters_as_the_filtersets_do(chosen, data):
    """A query of valid pair lists, choices and page parameters takes the shortcut,
    which the FilterSets accept and filter with the same SQL."""
    query = drawn_query(data, chosen, TAKEN)
    fast = simple_filter(query, Signal.objects.all())
    assert fast is not None, query
    for filterset_class in (SignalFilter, SignalListFilter):
        filterset = filterset_class(query, Signal.objects.all())
        assert filterset.is_valid(), filterset.errors
        assert str(fast.query) == str(filterset.qs.query)


@settings(max_examples=100, deadline=None)
@given(
    taken=st.lists(st.sampled_from(sorted(TAKEN)), unique=True, max_size=4),
    refused=st.sampled_from(sorted(REFUSED)),
    repeat=st.booleans(),
    data=st.data(),
)
def test_simple_filter_leaves_any_other_query_to_the_filterset(
    taken, refused, repeat, data
):
    """One invalid value, one filter it does not apply or one repeated parameter is
    enough for the shortcut to decline (the FilterSet then names what is wrong)."""
    kept = [name for name in taken if name != refused]
    query = drawn_query(data, kept, TAKEN)
    if repeat and kept:
        query.appendlist(kept[0], data.draw(TAKEN[kept[0]], label="repeated"))
    else:
        query.appendlist(refused, data.draw(REFUSED[refused], label=refused))
    assert simple_filter(query, Signal.objects.all()) is None, query


def test_the_benchmarks_list_query_takes_the_shortcut():
    query = QueryDict("pair=EUR/USD&status=closed&page_size=100")
    assert simple_filter(query, Signal.objects.all()) is not None


def test_strategy_filters_one_or_several_names_in_list_feed_and_stats(api_client):
    SignalFactory(strategy="trend_momentum", outcome="win", status="closed")
    SignalFactory(strategy="breakout")
    SignalFactory(strategy="Any Name, made by hand"[:13])  # "Any Name" kept
    long_name = "x" * 50  # any stored name, up to the column's 50 characters
    SignalFactory(strategy=long_name)
    for query, expected in [
        ("strategy=trend_momentum", 1),
        ("strategy=trend_momentum,breakout", 2),
        ("strategy= breakout , breakout", 1),
        (f"strategy={long_name}", 1),
        ("strategy=mean_reversion", 0),
    ]:
        listed = api_client.get(f"/api/signals/?{query}").json()
        assert listed["count"] == expected, query
        feed = api_client.get(f"/api/signals/feed/?{query}").json()
        assert len(feed["results"]) == expected, query
        stats = api_client.get(f"/api/signals/stats/?{query}").json()
        assert stats["total"] == expected, query
    stats = api_client.get("/api/signals/stats/?strategy=trend_momentum").json()
    assert stats["by_outcome"]["win"] == 1
