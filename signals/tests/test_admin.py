from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signals.models import Signal
from signals.services import signals_bulk_create
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/signals/signal/"


@pytest.fixture
def admin_client(client, staff_user):  # type: ignore[no-untyped-def]
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_admin_needs_staff(client, user):
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 302


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?pair=EUR/USD",
        "?status=active&outcome=pending",
        "?timeframe=1h",
        "?direction=buy",
        "?q=EUR/USD",
        "?q=abc",
        "?timestamp__year=2026",
        "?timestamp__year=2026&timestamp__month=1",
    ],
)
def test_signal_changelist_filters_search_and_dates(admin_client, query):
    signal = SignalFactory()
    response = admin_client.get(CHANGELIST + query)
    assert response.status_code == 200
    if query in ("", "?pair=EUR/USD", "?q=EUR/USD"):
        assert f"/admin/signals/signal/{signal.id}/change/" in response.content.decode()


def test_signal_changelist_query_count_does_not_grow(admin_client):
    SignalFactory.create_batch(3)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(CHANGELIST).status_code == 200
    SignalFactory.create_batch(60)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(CHANGELIST).status_code == 200
    assert len(many) == len(few)


def test_admin_edit_recomputes_derived_fields(admin_client):
    signal = SignalFactory()
    response = admin_client.get(f"/admin/signals/signal/{signal.id}/change/")
    assert response.status_code == 200
    form = admin_form(status="closed", outcome="win", exit_price="1.13")
    response = admin_client.post(f"/admin/signals/signal/{signal.id}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    signal.refresh_from_db()
    assert signal.risk_reward == Decimal("3") and signal.pips == Decimal("300")


def test_admin_refuses_levels_on_the_wrong_side(admin_client):
    signal = SignalFactory()
    form = admin_form(direction="sell")
    response = admin_client.post(f"/admin/signals/signal/{signal.id}/change/", form)
    assert response.status_code == 200  # the form again, with the error
    signal.refresh_from_db()
    assert signal.direction == "buy"


@pytest.mark.postgresql
def test_unfiltered_changelist_skips_count_star_on_a_big_table(admin_client):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    signals_bulk_create(
        items=[
            {
                "pair": "EUR/USD",
                "timeframe": "1m",
                "direction": "buy",
                "entry_price": Decimal("1.1"),
                "stop_loss": Decimal("1"),
                "take_profit": Decimal("1.2"),
                "confidence": Decimal(50),
                "timestamp": start + timedelta(minutes=n),
            }
            for n in range(12000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE signals_signal")
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(CHANGELIST).status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert not [sql for sql in counts if "WHERE" not in sql.upper()], counts
    assert Signal.objects.count() == 12000


def admin_form(**overrides: str) -> dict:
    form = {
        "pair": "EUR/USD",
        "timeframe": "1h",
        "strategy": "manual",
        "timestamp_0": "2026-01-05",
        "timestamp_1": "00:00:00",
        "direction": "buy",
        "entry_price": "1.1",
        "stop_loss": "1.09",
        "take_profit": "1.13",
        "confidence": "50",
        "status": "active",
        "outcome": "pending",
        "exit_price": "",
        "mae_pips": "",
        "mfe_pips": "",
        "closed_at_0": "",
        "closed_at_1": "",
        "indicators": "{}",
        "reasoning": "",
    }
    form.update(overrides)
    return form


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"stop_loss": "1.09999999", "take_profit": "9999"}, "take_profit"),
        ({"indicators": '{"a": "x\\u0000y"}'}, "indicators"),
    ],
    ids=["risk_reward overflow", "NUL in indicators"],
)
def test_admin_shows_a_form_error_for_values_the_database_cannot_hold(
    admin_client, overrides, field
):
    signal = SignalFactory()
    url = f"/admin/signals/signal/{signal.id}/change/"
    response = admin_client.post(url, admin_form(**overrides))
    assert response.status_code == 200  # the form again, not a 500
    assert field in response.context["adminform"].form.errors
    signal.refresh_from_db()
    assert signal.take_profit == Decimal("1.11") and signal.indicators == {}
