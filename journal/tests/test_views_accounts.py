"""The accounts endpoints, and the account of each entry."""

from decimal import Decimal

import pytest

from journal.models import Account, JournalEntry
from journal.services import account_default
from journal.tests.factories import JournalEntryFactory, closed, entry_payload

pytestmark = pytest.mark.django_db
ACCOUNTS = "/api/journal/accounts/"
ACCOUNT_FIELDS = {"id", "name", "broker", "currency", "timezone", "created_at"}


def test_create_an_account_with_the_defaults(user, user_client):
    response = user_client.post(ACCOUNTS, {"name": "IC Markets"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == ACCOUNT_FIELDS
    assert (body["name"], body["broker"], body["currency"], body["timezone"]) == (
        "IC Markets",
        "",
        "",
        "UTC",
    )
    assert Account.objects.get(pk=body["id"]).owner == user


def test_account_crud(user_client):
    body = {
        "name": "Live",
        "broker": "IBKR",
        "currency": "eur",
        "timezone": "Asia/Tokyo",
    }
    created = user_client.post(ACCOUNTS, body, format="json").json()
    assert created["currency"] == "EUR" and created["timezone"] == "Asia/Tokyo"
    detail = f"{ACCOUNTS}{created['id']}/"
    changed = user_client.patch(detail, {"timezone": "Europe/London"}, format="json")
    assert changed.status_code == 200 and changed.json()["timezone"] == "Europe/London"
    listed = user_client.get(ACCOUNTS).json()
    assert [item["name"] for item in listed["results"]] == ["Live"]
    assert user_client.delete(detail).status_code == 204
    assert user_client.get(detail).status_code == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "x", "currency": "EURO"}, "currency"),
        ({"name": ""}, "name"),
        ({}, "name"),
    ],
)
def test_invalid_account_is_400_naming_the_field(user_client, body, field):
    response = user_client.post(ACCOUNTS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Account.objects.exists()


def test_another_users_account_is_404_for_every_method(user, other_client):
    account = account_default(owner_id=user.id)
    detail = f"{ACCOUNTS}{account.id}/"
    assert other_client.get(detail).status_code == 404
    assert (
        other_client.patch(detail, {"name": "mine"}, format="json").status_code == 404
    )
    assert other_client.delete(detail).status_code == 404
    assert other_client.get(ACCOUNTS).json()["results"] == []
    account.refresh_from_db()
    assert account.name == "Default"


def test_an_account_with_entries_cannot_be_deleted(user, user_client):
    entry = JournalEntryFactory(owner=user)
    response = user_client.delete(f"{ACCOUNTS}{entry.account_id}/")
    assert response.status_code == 409
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


def test_an_entry_without_account_goes_to_the_default_created_on_demand(
    user, user_client
):
    first = user_client.post("/api/journal/", entry_payload(), format="json").json()
    second = user_client.post("/api/journal/", entry_payload(), format="json").json()
    default = Account.objects.get(owner=user)
    assert first["account"] == second["account"] == default.id
    assert default.name == "Default"


def test_the_default_account_is_the_oldest(user, user_client):
    oldest = user_client.post(ACCOUNTS, {"name": "Main"}, format="json").json()
    user_client.post(ACCOUNTS, {"name": "Second"}, format="json")
    body = user_client.post("/api/journal/", entry_payload(), format="json").json()
    assert body["account"] == oldest["id"]
    assert Account.objects.filter(owner=user).count() == 2


def test_an_entry_can_name_its_account_and_move_to_another(user, user_client):
    one = user_client.post(ACCOUNTS, {"name": "One"}, format="json").json()["id"]
    two = user_client.post(ACCOUNTS, {"name": "Two"}, format="json").json()["id"]
    body = user_client.post(
        "/api/journal/", entry_payload(account=two), format="json"
    ).json()
    assert body["account"] == two
    moved = user_client.patch(
        f"/api/journal/{body['id']}/", {"account": one}, format="json"
    )
    assert moved.json()["account"] == one


@pytest.mark.parametrize("value", ["other", 0, "x", None, 2**70])
def test_another_users_or_a_bad_account_is_400_naming_it(
    user_client, other_user, value
):
    other = account_default(owner_id=other_user.id)
    account = other.id if value == "other" else value
    created = user_client.post(
        "/api/journal/", entry_payload(account=account), format="json"
    )
    assert created.status_code == 400 and "account" in created.json()
    bulk = user_client.post(
        "/api/journal/bulk/",
        [entry_payload(), entry_payload(account=account)],
        format="json",
    )
    assert bulk.status_code == 400 and "account" in str(bulk.json())
    assert not JournalEntry.objects.exists()


def test_patch_to_another_users_account_is_400(user, other_user, user_client):
    entry = JournalEntryFactory(owner=user)
    other = account_default(owner_id=other_user.id)
    response = user_client.patch(
        f"/api/journal/{entry.id}/", {"account": other.id}, format="json"
    )
    assert response.status_code == 400 and "account" in response.json()
    entry.refresh_from_db()
    assert entry.account.owner == user


def test_list_and_stats_filter_by_account(user, user_client):
    main = account_default(owner_id=user.id)
    other = Account.objects.create(owner=user, name="Other")
    JournalEntryFactory(owner=user, account=main, **closed())
    JournalEntryFactory(owner=user, account=other, **closed(exit_price=Decimal("1.09")))
    JournalEntryFactory(owner=user, account=other)
    listed = user_client.get(f"/api/journal/?account={other.id}").json()
    assert listed["count"] == 2
    stats = user_client.get(f"/api/journal/stats/?account={other.id}").json()
    assert (stats["total_trades"], stats["wins"], stats["losses"]) == (2, 0, 1)
    stats = user_client.get(f"/api/journal/stats/?account={main.id}").json()
    assert (stats["total_trades"], stats["wins"]) == (1, 1)
    assert user_client.get("/api/journal/?account=x").status_code == 400


def test_accounts_list_runs_a_constant_number_of_queries(
    user, user_client, django_assert_max_num_queries
):
    for n in range(5):
        Account.objects.create(owner=user, name=f"a{n}")
    with django_assert_max_num_queries(2):
        assert user_client.get(ACCOUNTS).status_code == 200
