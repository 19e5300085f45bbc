"""One user's journal drawn in the admin: numbers checked against plain Python."""

import math
from datetime import timedelta
from decimal import Decimal
from itertools import accumulate

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from journal.models import JournalEntry
from journal.tests.factories import START, JournalEntryFactory, closed

pytestmark = pytest.mark.django_db
CHARTS = "/admin/journal/journalentry/charts/"
EXITS = ("1.10900", "1.09700", "1.10250", "1.09500", "1.11200", "1.10000", "1.09900")


@pytest.fixture
def admin_client_(django_user_model) -> Client:
    admin = django_user_model.objects.create_superuser(
        username="root", password="pw-root-1", email="root@example.com"
    )
    client = Client()
    client.force_login(admin)
    return client


def trades(owner) -> list[JournalEntry]:  # type: ignore[no-untyped-def]
    """Closed trades a few hours apart on several days, two setups, one open."""
    made = [
        JournalEntryFactory(
            owner=owner,
            setup=("breakout", "pullback")[n % 2],
            **closed(
                hours=3,
                opened_at=START + timedelta(hours=17 * n),
                exit_price=Decimal(price),
            ),
        )
        for n, price in enumerate(EXITS)
    ]
    JournalEntryFactory(owner=owner)  # open: in no chart
    return made


def test_equity_and_drawdown_match_a_running_sum_and_peak(admin_client_, user):
    made = trades(user)
    page = admin_client_.get(f"{CHARTS}?owner={user.pk}")
    assert page.status_code == 200
    chart = page.context["chart"]
    equity, peak, drawdowns = 0.0, 0.0, []
    for entry in sorted(made, key=lambda e: (e.closed_at, e.id)):
        equity += float(entry.pnl)
        peak = max(peak, equity)
        drawdowns.append(equity - peak)
    assert [p["value"] for p in chart["equity"]] == pytest.approx(
        list(accumulate(float(e.pnl) for e in made))
    )
    assert [p["value"] for p in chart["drawdown"]] == pytest.approx(drawdowns)
    assert -min(drawdowns) == pytest.approx(page.context["stats"]["max_drawdown"])


def test_r_histogram_setups_and_weekday_hours_count_the_closed_trades(
    admin_client_, user
):
    made = trades(user)
    context = admin_client_.get(f"{CHARTS}?owner={user.pk}").context
    expected: dict[float, int] = {}
    for entry in made:
        low = math.floor(float(entry.r_multiple) / 0.5) * 0.5
        expected[low] = expected.get(low, 0) + 1
    bars = context["chart"]["r_histogram"]
    assert {b["time"]: b["value"] for b in bars if b["value"]} == expected
    # Empty buckets between are bars of 0: the chart spaces bars by rank.
    assert [b["time"] for b in bars] == [
        min(expected) + 0.5 * n for n in range(len(bars))
    ]
    assert bars[-1]["time"] == max(expected)
    setups = {row["setup"]: row for row in context["setups"]}
    for name in ("breakout", "pullback"):
        mine = [e for e in made if e.setup == name]
        assert setups[name]["trades"] == len(mine)
        assert setups[name]["wins"] == sum(e.outcome == "win" for e in mine)
        assert setups[name]["total_pnl"] == pytest.approx(
            sum(float(e.pnl) for e in mine)
        )
    cells = {
        (day["weekday"], cell["hour"]): cell["trades"]
        for day in context["heat"]
        for cell in day["hours"]
        if cell["trades"]
    }
    expected_cells: dict[tuple[str, int], int] = {}
    for entry in made:
        key = (entry.opened_at.strftime("%a"), entry.opened_at.hour)
        expected_cells[key] = expected_cells.get(key, 0) + 1
    assert cells == expected_cells


def test_charts_of_a_user_take_the_same_queries_whatever_the_entries(
    admin_client_, user
):
    trades(user)
    url = f"{CHARTS}?owner={user.pk}"
    admin_client_.get(url)
    with CaptureQueriesContext(connection) as few:
        assert admin_client_.get(url).status_code == 200
    trades(user)
    with CaptureQueriesContext(connection) as many:
        admin_client_.get(url)
    assert len(many) == len(few) <= 12


def test_charts_page_lists_users_and_is_linked_from_the_filtered_list(
    admin_client_, user
):
    trades(user)
    picker = admin_client_.get(CHARTS)
    assert picker.status_code == 200
    assert f"?owner={user.pk}" in picker.content.decode()
    listing = admin_client_.get(
        f"/admin/journal/journalentry/?owner__id__exact={user.pk}"
    )
    assert f"{CHARTS}?owner={user.pk}" in listing.content.decode()
    page = admin_client_.get(f"{CHARTS}?owner={user.pk}").content.decode()
    for asset in (
        "/static/signals/vendor/lightweight-charts/"
        "lightweight-charts.standalone.production.js",
        "/static/journal/admin/journal_charts.js",
    ):
        assert asset in page and admin_client_.get(asset).status_code == 200


def test_charts_are_for_staff_only(user):
    client = Client()
    client.force_login(user)
    assert client.get(f"{CHARTS}?owner={user.pk}").status_code == 302
