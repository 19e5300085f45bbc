from decimal import Decimal

import pytest
from django.test import Client

from journal.models import JournalEntry
from journal.tests.factories import START, JournalEntryFactory, closed

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/journal/journalentry/add/"


@pytest.fixture
def admin_client_(django_user_model) -> Client:
    admin = django_user_model.objects.create_superuser(
        username="root", password="pw-root-1", email="root@example.com"
    )
    client = Client()
    client.force_login(admin)
    return client


def form(owner_id: int, **overrides: str) -> dict[str, str]:
    data = {
        "owner": str(owner_id),
        "signal": "",
        "pair": "EUR/USD",
        "direction": "buy",
        "entry_price": "1.1",
        "exit_price": "1.105",
        "stop_loss": "1.095",
        "take_profit": "",
        "quantity": "10000",
        "opened_at_0": "2026-01-05",
        "opened_at_1": "10:00:00",
        "closed_at_0": "2026-01-05",
        "closed_at_1": "12:00:00",
        "pnl": "",
        "fees": "0",
        "swap": "0",
        "setup": "breakout",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_adding_an_entry_in_the_admin_derives_its_fields(admin_client_, user):
    response = admin_client_.post(ADD_URL, form(user.id))
    assert response.status_code == 302, response.content
    entry = JournalEntry.objects.get()
    assert (entry.owner, entry.pnl, entry.pips, entry.r_multiple, entry.outcome) == (
        user,
        Decimal("50"),
        Decimal("50"),
        Decimal("1"),
        "win",
    )
    assert entry.pnl_manual is False


def test_a_pnl_typed_in_the_admin_is_kept(admin_client_, user):
    admin_client_.post(ADD_URL, form(user.id, pnl="-4"))
    entry = JournalEntry.objects.get()
    assert entry.pnl == Decimal("-4") and entry.outcome == "loss" and entry.pnl_manual


def test_costs_typed_in_the_admin_come_off_the_pnl(admin_client_, user):
    admin_client_.post(ADD_URL, form(user.id, fees="2", swap="-0.5"))
    entry = JournalEntry.objects.get()
    assert (entry.gross_pnl, entry.pnl) == (Decimal("50"), Decimal("47.5"))


def test_changing_an_entry_in_the_admin_recomputes_and_refreshes_the_cache(
    admin_client_, user, user_client, django_capture_on_commit_callbacks
):
    entry = JournalEntryFactory(owner=user, **closed())
    assert user_client.get("/api/journal/stats/").json()["wins"] == 1
    # The form shows the computed pnl; leaving it as it is keeps it computed.
    data = form(user.id, exit_price="1.09", pnl="50.00000000")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            f"/admin/journal/journalentry/{entry.id}/change/", data
        )
    assert response.status_code == 302, response.content
    entry.refresh_from_db()
    assert entry.pnl == Decimal("-100") and entry.outcome == "loss"
    assert user_client.get("/api/journal/stats/").json()["losses"] == 1


def test_the_admin_refuses_an_exit_without_a_close_time(admin_client_, user):
    response = admin_client_.post(
        ADD_URL, form(user.id, closed_at_0="", closed_at_1="")
    )
    assert response.status_code == 200
    assert "Required when exit_price is set" in response.content.decode()
    assert not JournalEntry.objects.exists()


def test_deleting_in_the_admin_refreshes_the_owners_cache(
    admin_client_, user, user_client, django_capture_on_commit_callbacks
):
    entries = JournalEntryFactory.create_batch(2, owner=user)
    assert user_client.get("/api/journal/").json()["count"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(
            f"/admin/journal/journalentry/{entries[0].id}/delete/", {"post": "yes"}
        )
    assert user_client.get("/api/journal/").json()["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(
            "/admin/journal/journalentry/",
            {
                "action": "delete_selected",
                "_selected_action": [entries[1].id],
                "post": "yes",
            },
        )
    assert user_client.get("/api/journal/").json()["count"] == 0


def test_the_changelist_filters_and_searches(admin_client_, user, other_user):
    JournalEntryFactory(owner=user, notes="revenge trade", setup="breakout")
    JournalEntryFactory(owner=other_user, **closed(opened_at=START))
    base = "/admin/journal/journalentry/"
    assert admin_client_.get(base).status_code == 200
    response = admin_client_.get(f"{base}?q=revenge")
    assert response.status_code == 200 and "1 result" in response.content.decode()
    for query in ("owner__id__exact", "pair", "outcome", "setup"):
        assert query in admin_client_.get(base).content.decode()
    response = admin_client_.get(f"{base}?outcome=win&pair=EUR%2FUSD")
    assert response.status_code == 200
