"""Idempotency-Key on POSTs: replay, a different body, a request still running,
expiry, and callers kept apart (on SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.idempotency import idempotency_prune
from api.models import IdempotencyRecord
from journal.models import JournalEntry
from journal.tests.factories import entry_payload
from signals.models import Signal
from signals.tests.factories import signal_payload

pytestmark = pytest.mark.django_db


def token_client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(client: APIClient, url: str, body: object, key: str | None = "k-1"):  # type: ignore[no-untyped-def]
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(url, body, format="json", **headers)


def test_the_same_key_and_body_replays_the_answer_without_writing_again(user):
    client = token_client(user)
    first = post(client, "/api/journal/", entry_payload())
    again = post(client, "/api/journal/", entry_payload())
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert JournalEntry.objects.filter(owner=user).count() == 1


def test_a_bulk_create_is_replayed_not_repeated(staff_user):
    client = token_client(staff_user)
    items = [signal_payload(), signal_payload(pair="GBP/USD")]
    first = post(client, "/api/signals/bulk/", items)
    again = post(client, "/api/signals/bulk/", items)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Signal.objects.count() == 2


def test_the_same_key_with_another_body_is_a_422(user):
    client = token_client(user)
    assert post(client, "/api/journal/", entry_payload()).status_code == 201
    other = post(client, "/api/journal/", entry_payload(notes="changed"))
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert JournalEntry.objects.filter(owner=user).count() == 1


def test_a_key_whose_first_request_is_still_running_is_a_409(user):
    client = token_client(user)
    first = post(client, "/api/journal/", entry_payload())
    # The state a request still running leaves: its claim, without an answer.
    IdempotencyRecord.objects.filter(key="k-1").update(
        status=None, created_at=timezone.now()
    )
    running = post(client, "/api/journal/", entry_payload())
    assert first.status_code == 201
    assert running.status_code == 409
    assert running["Retry-After"] == "1"
    assert JournalEntry.objects.filter(owner=user).count() == 1


def test_a_claim_abandoned_past_the_lock_time_is_taken_over(user, settings):
    client = token_client(user)
    post(client, "/api/journal/", entry_payload())
    old = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS + 1)
    IdempotencyRecord.objects.update(status=None, created_at=old)
    retried = post(client, "/api/journal/", entry_payload())
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert JournalEntry.objects.filter(owner=user).count() == 2


def test_an_expired_key_runs_the_request_again_and_pruning_deletes_it(user):
    client = token_client(user)
    post(client, "/api/journal/", entry_payload())
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    again = post(client, "/api/journal/", entry_payload())
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert JournalEntry.objects.filter(owner=user).count() == 2
    assert idempotency_prune() == 0  # the renewed claim is not expired
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency_prune() == 1
    assert not IdempotencyRecord.objects.exists()


def test_another_users_key_never_matches(user, other_user):
    alice, bob = token_client(user), token_client(other_user)
    assert post(alice, "/api/journal/", entry_payload()).status_code == 201
    theirs = post(bob, "/api/journal/", entry_payload())
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert JournalEntry.objects.filter(owner=other_user).count() == 1
    # Bob's reuse of the key with another body is judged on his own record.
    assert post(bob, "/api/journal/", entry_payload(notes="x")).status_code == 422


def test_a_refused_request_is_replayed_as_refused(user):
    client = token_client(user)
    first = post(client, "/api/journal/", {"pair": "eurusd"})
    again = post(client, "/api/journal/", {"pair": "eurusd"})
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
def test_a_malformed_key_is_a_400_naming_the_header(user, key):
    response = post(token_client(user), "/api/journal/", entry_payload(), key=key)
    assert response.status_code == 400
    assert list(response.json()) == ["Idempotency-Key"]
    assert not JournalEntry.objects.exists()


def test_without_a_key_every_post_does_the_work(user):
    client = token_client(user)
    post(client, "/api/journal/", entry_payload(), key=None)
    post(client, "/api/journal/", entry_payload(), key=None)
    assert JournalEntry.objects.filter(owner=user).count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_wrong_credentials_get_the_views_401_and_claim_nothing(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = post(api_client, "/api/journal/", entry_payload())
    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


def test_anonymous_callers_are_told_apart_by_address(api_client):
    body = {"username": "nobody", "password": "wrong"}
    first = api_client.post(
        "/api/auth/token/", body, format="json", HTTP_IDEMPOTENCY_KEY="a",
        REMOTE_ADDR="127.0.0.2",
    )  # fmt: skip
    elsewhere = api_client.post(
        "/api/auth/token/", body, format="json", HTTP_IDEMPOTENCY_KEY="a",
        REMOTE_ADDR="127.0.0.3",
    )  # fmt: skip
    assert first.status_code == elsewhere.status_code == 400
    assert "Idempotent-Replayed" not in elsewhere
    assert set(IdempotencyRecord.objects.values_list("caller", flat=True)) == {
        "ip:127.0.0.2",
        "ip:127.0.0.3",
    }
