"""The hot reads are served from an index, with no sort of the table (PostgreSQL)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from api.pagination import KeysetPagination
from signals.models import Signal
from signals.services import signals_bulk_create

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]
PAIRS = [f"P{n:02d}/USD" for n in range(20)]
STATUSES = ["active", "closed", "expired", "cancelled"]


@pytest.fixture
def many_signals() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    items = [
        {
            "pair": PAIRS[n % len(PAIRS)],
            "timeframe": "1h",
            "direction": "buy",
            "entry_price": Decimal("1.1"),
            "stop_loss": Decimal("1.0"),
            "take_profit": Decimal("1.3"),
            "confidence": Decimal(n % 100),
            "status": STATUSES[n % 7 % 4],
            "timestamp": start + timedelta(minutes=n),
        }
        for n in range(20000)
    ]
    signals_bulk_create(items=items)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE signals_signal")


def plan(queryset) -> str:
    return queryset.explain()


def assert_index_without_sort(text: str, index: str) -> None:
    assert index in text, text
    assert "Sort" not in text, text
    assert "Seq Scan" not in text, text


def test_pair_and_status_list_is_read_from_its_index(many_signals):
    query = Signal.objects.for_list().filter(pair="P03/USD", status="active")
    assert_index_without_sort(plan(query[:100]), "idx_pair_status_timestamp")


def test_unfiltered_deep_page_is_read_from_the_timestamp_index(many_signals):
    query = Signal.objects.for_list()[10000:10100]
    assert_index_without_sort(plan(query), "idx_timestamp_id")


def test_feed_at_depth_starts_from_the_cursor_in_the_index(many_signals):
    boundary = Signal.objects.order_by("-timestamp", "-id")[15000]
    window = KeysetPagination.window(
        Signal.objects.for_list(), (boundary.timestamp, boundary.id), forward=True
    )
    text = plan(window[:101])
    assert_index_without_sort(text, "idx_timestamp_id")
    assert "Index Cond" in text, text


def test_feed_filtered_by_pair_is_read_from_the_pair_index(many_signals):
    query = (
        Signal.objects.for_list().filter(pair="P05/USD").order_by("-timestamp", "-id")
    )
    assert_index_without_sort(plan(query[:100]), "idx_pair_timestamp")
