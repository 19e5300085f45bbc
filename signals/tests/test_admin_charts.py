"""The admin's signal chart (JSON view, change page) and the performance page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from market.tests.factories import START, candles_create
from signals.models import Signal
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):  # type: ignore[no-untyped-def]
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def closed_signal(**fields: object) -> Signal:
    """A buy on candle 150 of 300 stored, its exit candle 160 (closed_at its end)."""
    candles_create("EUR/USD", [1.102] * 300, [1.098] * 300, [1.1] * 300)
    return SignalFactory(
        timestamp=START + timedelta(hours=150),
        status="closed",
        outcome="win",
        exit_price=Decimal("1.11"),
        pips=Decimal("100"),
        mae_pips=Decimal("12.5"),
        mfe_pips=Decimal("100"),
        closed_at=START + timedelta(hours=161),
        **fields,
    )


def test_chart_data_has_the_lookback_the_candles_to_the_exit_and_the_levels(
    admin_client,
):
    signal = closed_signal()
    response = admin_client.get(f"/admin/signals/signal/{signal.pk}/chart-data/")
    assert response.status_code == 200
    body = response.json()
    times = [candle["time"] for candle in body["candles"]]
    hour = 3600
    first, signal_time = START.timestamp(), signal.timestamp.timestamp()
    # 100 candles before the signal's, its own, then up to the exit candle (160).
    assert times == [first + hour * n for n in range(50, 161)]
    assert body["signal"]["time"] == signal_time
    assert body["signal"]["exit_time"] == first + 160 * hour
    assert body["signal"]["entry_price"] == 1.1
    assert body["signal"]["stop_loss"] == 1.095
    assert body["signal"]["take_profit"] == 1.11
    assert body["signal"]["exit_price"] == 1.11
    # A buy's MAE lies below entry, its MFE above, by the pips × 0.0001.
    assert body["signal"]["mae_price"] == pytest.approx(1.1 - 12.5 * 0.0001)
    assert body["signal"]["mfe_price"] == pytest.approx(1.1 + 100 * 0.0001)
    assert body["signal"]["precision"] == 5


def test_chart_data_of_an_open_signal_stops_at_expiry_and_of_a_sell_mirrors(
    admin_client, settings
):
    settings.SIGNAL_EXPIRY_BARS = 10
    candles_create("USD/JPY", [150.2] * 200, [149.8] * 200, [150.0] * 200)
    signal = SignalFactory(
        pair="USD/JPY",
        direction="sell",
        entry_price=Decimal("150"),
        stop_loss=Decimal("151"),
        take_profit=Decimal("148"),
        timestamp=START + timedelta(hours=20),
        mae_pips=Decimal("30"),
        mfe_pips=Decimal("40"),
    )
    body = admin_client.get(f"/admin/signals/signal/{signal.pk}/chart-data/").json()
    assert len(body["candles"]) == 21 + 10
    assert body["signal"]["exit_time"] is None
    assert body["signal"]["mae_price"] == pytest.approx(150.3)
    assert body["signal"]["mfe_price"] == pytest.approx(149.6)
    assert body["signal"]["precision"] == 3


def test_chart_data_is_for_staff_only(user, admin_client):
    signal = closed_signal()
    url = f"/admin/signals/signal/{signal.pk}/chart-data/"
    client = Client()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(user)
    assert client.get(url).status_code == 302
    assert admin_client.get("/admin/signals/signal/999999/chart-data/").status_code == (
        404
    )


def test_change_page_loads_the_vendored_chart_library_and_the_chart_script(
    admin_client,
):
    signal = closed_signal()
    page = admin_client.get(f"/admin/signals/signal/{signal.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="signal-chart"' in html
    assert f"/admin/signals/signal/{signal.pk}/chart-data/" in html
    for asset in (
        "/static/signals/vendor/lightweight-charts/"
        "lightweight-charts.standalone.production.js",
        "/static/signals/admin/signal_chart.js",
        "/static/signals/admin/charts.css",
    ):
        assert asset in html
        assert admin_client.get(asset).status_code == 200, asset


def test_add_page_has_no_chart(admin_client):
    assert (
        'id="signal-chart"'
        not in admin_client.get("/admin/signals/signal/add/").content.decode()
    )


def make_resolved_signals() -> None:
    for n, (pair, outcome, confidence, pips) in enumerate(
        [
            ("EUR/USD", "win", "55", "20"),
            ("EUR/USD", "loss", "65", "-10"),
            ("EUR/USD", "win", "95", "30"),
            ("GBP/USD", "loss", "72.5", "-10"),
            ("GBP/USD", "breakeven", "80", "0"),
            ("USD/JPY", "win", "100", "15.5"),
        ]
    ):
        SignalFactory(
            pair=pair,
            timeframe="4h" if n == 5 else "1h",
            status="closed",
            outcome=outcome,
            confidence=Decimal(confidence),
            pips=Decimal(pips),
            exit_price=Decimal("1.1"),
            closed_at=START + timedelta(hours=13 * n + 2),
        )
    SignalFactory(pair="EUR/USD")  # active: counted, no pips


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?pair=EUR/USD",
        "?pair=EUR/USD,GBP/USD&timeframe=1h",
        "?since=2026-01-05T05:00:00Z&until=2026-01-06",
        "?pair=XAU/USD",
    ],
)
def test_performance_page_shows_the_api_stats_for_the_same_filters(
    admin_client, api_client, query
):
    make_resolved_signals()
    page = admin_client.get(f"/admin/signals/signal/performance/{query}")
    assert page.status_code == 200
    api = api_client.get(f"/api/signals/stats/{query}").json()
    assert page.context["stats"] == api
    assert 'id="calibration-chart"' in page.content.decode()


def test_performance_page_cumulative_pips_by_day_match_a_plain_sum(admin_client):
    make_resolved_signals()
    chart = admin_client.get("/admin/signals/signal/performance/").context["chart"]
    by_day: dict[str, float] = {}
    for signal in Signal.objects.exclude(pips=None):
        day = signal.closed_at.date().isoformat()
        by_day[day] = by_day.get(day, 0.0) + float(signal.pips)
    running, expected = 0.0, []
    for day in sorted(by_day):
        running += by_day[day]
        expected.append({"time": day, "value": pytest.approx(running)})
    assert chart["cumulative_pips"] == expected
    buckets = chart["calibration"]
    assert [b["confidence"] for b in buckets] == list(range(5, 100, 10))
    assert buckets[9]["wins"] == 2 and buckets[9]["signals"] == 2


def test_performance_page_names_a_bad_filter_and_shows_nothing(admin_client):
    make_resolved_signals()
    page = admin_client.get("/admin/signals/signal/performance/?pair=eurusd")
    assert page.status_code == 200
    assert page.context["stats"]["total"] == 0
    assert "Not a valid pair" in page.content.decode()


def test_performance_page_queries_do_not_grow_with_signals(admin_client):
    make_resolved_signals()
    url = "/admin/signals/signal/performance/"
    admin_client.get(url)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    make_resolved_signals()
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many) == len(few) <= 8


def test_performance_page_is_for_staff_and_linked_from_the_list(user, admin_client):
    client = Client()
    client.force_login(user)
    assert client.get("/admin/signals/signal/performance/").status_code == 302
    changelist = admin_client.get("/admin/signals/signal/").content.decode()
    assert "/admin/signals/signal/performance/" in changelist


def test_performance_page_has_each_strategys_record_linking_to_its_diagram(
    admin_client, api_client
):
    make_resolved_signals()
    page = admin_client.get("/admin/signals/signal/performance/")
    api = api_client.get("/api/strategies/").json()
    records = api["results"] if isinstance(api, dict) else api
    shown = {s["name"]: s["live"] for s in page.context["strategies"]}
    assert shown == {record["name"]: record["live"] for record in records}
    html = page.content.decode()
    for name in shown:
        assert f'href="?strategy={name}"' in html
    # Filtered to one strategy, the calibration chart is that strategy's
    # reliability diagram: the stats of its signals only.
    name = next(iter(shown))
    one = admin_client.get(f"/admin/signals/signal/performance/?strategy={name}")
    assert (
        one.context["stats"]
        == api_client.get(f"/api/signals/stats/?strategy={name}").json()
    )
