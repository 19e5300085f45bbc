"""The cross-user matrix: every journal endpoint × every method × two users, with
cold and warm caches (in-memory and a real Redis), with real token authentication.
Ben never sees or changes anything of Ann's; Ann's answers never change because of
Ben's attempts."""

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from journal.models import JournalEntry
from journal.tests.factories import JournalEntryFactory, closed, entry_payload

pytestmark = pytest.mark.django_db
LOSS = Decimal("1.09")  # Ann's entry is a win, Ben's a loss
LIST, STATS, BULK = "/api/journal/", "/api/journal/stats/", "/api/journal/bulk/"
ACCOUNTS = "/api/journal/accounts/"


def token_client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user)}")
    return client


def snapshot(client: APIClient, entry_id: int) -> dict:
    """Everything Ann can read."""
    return {
        path: client.get(path).json()
        for path in (LIST, f"{LIST}{entry_id}/", STATS, f"{STATS}?pair=EUR/USD")
    }


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_another_user_can_neither_see_nor_change_an_entry(
    user, other_user, any_cache, warm, django_capture_on_commit_callbacks
):
    ann, ben = token_client(user), token_client(other_user)
    mine = JournalEntryFactory(owner=user, notes="ann's", **closed())
    JournalEntryFactory(owner=other_user, notes="ben's", **closed(exit_price=LOSS))
    detail = f"{LIST}{mine.id}/"
    before = snapshot(ann, mine.id)
    if warm:  # Ann's answers are cached, and Ben's own too
        assert ann.get(LIST)["X-Cache"] == "HIT"
        for path in (LIST, STATS):
            ben.get(path)

    # Reads: Ben's own data only, whatever is cached.
    listed = ben.get(LIST).json()
    assert [item["notes"] for item in listed["results"]] == ["ben's"]
    for path in (STATS, f"{STATS}?pair=EUR/USD"):
        stats = ben.get(path).json()
        assert (stats["total_trades"], stats["wins"], stats["losses"]) == (1, 0, 1)
    assert ben.get(detail).status_code == 404
    assert ben.get(f"{LIST}?pair=EUR/USD").json()["count"] == 1

    # Writes on Ann's entry: 404 (or 405 for PUT), nothing changed.
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            ben.patch(detail, {"notes": "ben's now"}, format="json").status_code == 404
        )
        assert ben.put(detail, entry_payload(), format="json").status_code in (404, 405)
        assert ben.delete(detail).status_code == 404
        # Creating, alone or in bulk, makes entries of Ben's whatever the body says.
        created = ben.post(LIST, {**entry_payload(), "owner": user.id}, format="json")
        assert created.status_code == 201
        bulk = ben.post(BULK, [{**entry_payload(), "owner": user.id}], format="json")
        assert bulk.status_code == 201
    assert JournalEntry.objects.filter(owner=user).count() == 1
    assert JournalEntry.objects.filter(owner=other_user).count() == 3
    mine.refresh_from_db()
    assert mine.notes == "ann's"

    # Ann's answers are what they were, cached or not.
    assert snapshot(ann, mine.id) == before
    # Anonymous: nothing.
    anonymous = APIClient()
    for path in (LIST, detail, STATS):
        assert anonymous.get(path).status_code == 401
    assert anonymous.delete(detail).status_code == 401
    # A junk token is refused, never answered from anyone's cache.
    junk = APIClient()
    junk.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert junk.get(LIST).status_code == 401


def test_another_user_can_neither_see_nor_use_an_account(user, other_user):
    ann, ben = token_client(user), token_client(other_user)
    account = ann.post(ACCOUNTS, {"name": "ann's"}, format="json").json()
    detail = f"{ACCOUNTS}{account['id']}/"
    assert ben.get(ACCOUNTS).json()["results"] == []
    assert ben.get(detail).status_code == 404
    assert ben.patch(detail, {"name": "ben's"}, format="json").status_code == 404
    assert ben.delete(detail).status_code == 404
    # Ben cannot file an entry under Ann's account, alone or in bulk.
    body = entry_payload(account=account["id"])
    assert ben.post(LIST, body, format="json").status_code == 400
    assert ben.post(BULK, [body], format="json").status_code == 400
    # Filtering by Ann's account shows Ben nothing of hers.
    JournalEntryFactory(owner=user, account_id=account["id"], **closed())
    assert ben.get(f"{LIST}?account={account['id']}").json()["count"] == 0
    stats = ben.get(f"{STATS}?account={account['id']}").json()
    assert stats["total_trades"] == 0
    assert ann.get(detail).json()["name"] == "ann's"
    assert not JournalEntry.objects.filter(owner=other_user).exists()


def test_tags_are_per_user(user, other_user, django_capture_on_commit_callbacks):
    ann, ben = token_client(user), token_client(other_user)
    with django_capture_on_commit_callbacks(execute=True):
        mine = ann.post(LIST, entry_payload(tags=["secret plan"]), format="json")
    mine = mine.json()
    # Ben's filter on Ann's tag finds nothing of hers, in the list or the stats.
    assert ben.get(f"{LIST}?tag=secret plan").json()["count"] == 0
    assert ben.get(f"{STATS}?tag=secret plan").json()["total_trades"] == 0
    # The same name on Ben's entry is Ben's own tag: Ann's entry keeps hers alone.
    with django_capture_on_commit_callbacks(execute=True):
        theirs = ben.post(LIST, entry_payload(tags=["secret plan"]), format="json")
    assert ben.get(f"{LIST}?tag=secret plan").json()["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        ben.patch(f"{LIST}{theirs.json()['id']}/", {"tags": []}, format="json")
    assert ann.get(f"{LIST}{mine['id']}/").json()["tags"] == ["secret plan"]
    assert ann.get(f"{LIST}?tag=secret plan").json()["count"] == 1


def test_another_user_can_neither_read_an_import_nor_import_into_an_account(
    user, other_user
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ann, ben = token_client(user), token_client(other_user)
    account = ann.post(ACCOUNTS, {"name": "ann's"}, format="json").json()["id"]

    def body(account_id: int) -> dict:
        content = b"pair,direction,entry_price,quantity,opened_at\n"
        content += b"EUR/USD,buy,1.1,1,2026-01-01T00:00:00Z\n"
        return {
            "file": SimpleUploadedFile("a.csv", content),
            "account": account_id,
            "format": "csv",
        }

    queued = ann.post("/api/journal/import/", body(account), format="multipart")
    assert queued.status_code == 202
    path = f"/api/journal/import/{queued.json()['id']}/"
    assert ben.get(path).status_code == 404
    assert ann.get(path).status_code == 200
    refused = ben.post("/api/journal/import/", body(account), format="multipart")
    assert refused.status_code == 400 and "account" in refused.json()
    assert APIClient().get(path).status_code == 401
