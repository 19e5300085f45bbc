from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from journal import services
from journal.models import JournalEntry
from journal.tests.factories import START, JournalEntryFactory, closed
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db


def test_bulk_create_derives_every_entry_and_keeps_the_input_order(user):
    items = [
        {**closed(pnl=Decimal("3")), "pair": "EUR/USD"},
        {"pair": "EUR/USD", "opened_at": START},
        {**closed(exit_price=Decimal("1.09")), "pair": "EUR/USD"},
    ]
    for item in items:
        item.update(direction="buy", entry_price=Decimal("1.1"), quantity=Decimal(1))
    created = services.entries_bulk_create(owner_id=user.id, items=items)
    stored = JournalEntry.objects.in_bulk([entry.pk for entry in created])
    assert [stored[entry.pk].outcome for entry in created] == ["win", "pending", "loss"]
    assert [stored[entry.pk].pnl_manual for entry in created] == [True, False, False]
    assert stored[created[2].pk].pnl == Decimal("-0.01")


def test_update_recomputes_from_the_stored_row_and_the_changes(user):
    entry = JournalEntryFactory(owner=user, **closed())
    stale = JournalEntry.objects.get(pk=entry.pk)
    JournalEntry.objects.filter(pk=entry.pk).update(quantity=Decimal("20000"))
    updated = services.entry_update(entry=stale, data={"notes": "later"})
    assert updated.quantity == Decimal("20000") and updated.pnl == Decimal("100")


def test_pip_overrides_come_from_settings(user, settings):
    settings.PIP_SIZES = {"EUR/USD": "0.001"}
    entry = JournalEntryFactory(owner=user, **closed())
    assert entry.pips == Decimal("5")


def test_deleting_entries_of_several_owners_refreshes_each_owners_cache(
    user, other_user, django_capture_on_commit_callbacks
):
    clients = []
    for owner in (user, other_user):
        JournalEntryFactory(owner=owner)
        client = APIClient()
        client.force_authenticate(owner)
        assert client.get("/api/journal/").json()["count"] == 1
        clients.append(client)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.entries_delete(entries=JournalEntry.objects.all()) == 2
    assert [client.get("/api/journal/").json()["count"] for client in clients] == [0, 0]


def test_entry_signals_find_looks_up_the_ids_a_bulk_body_names_in_one_query(
    django_assert_num_queries,
):
    first, second = SignalFactory(), SignalFactory()
    items = [
        {"signal": first.pk},
        {"signal": str(second.pk)},
        {"signal": True},
        {"signal": 2**63},
        {"signal": "x"},
        "not an object",
        {},
    ]
    with django_assert_num_queries(1):
        found = services.entry_signals_find(items=items)
    assert found == {first.pk: first, second.pk: second}
