import pytest
from rest_framework.test import APIClient

from webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db
PUBLIC_URL = "https://93.184.216.34/hook"  # a literal: no DNS lookup in the tests
LIST = "/api/webhooks/"


@pytest.fixture
def other_client(other_user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(other_user)
    return client


def create(client, **data):  # type: ignore[no-untyped-def]
    return client.post(LIST, {"url": PUBLIC_URL, **data}, format="json")


def test_create_answers_the_subscription_and_its_secret_once(user_client):
    response = create(user_client, types=["signal.created"], pairs=["EUR/USD"])
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["state"] == "enabled"
    assert body["types"] == ["signal.created"] and body["min_confidence"] is None
    listed = user_client.get(LIST).json()["results"]
    assert [s["id"] for s in listed] == [body["id"]] and "secret" not in listed[0]
    detail = user_client.get(f"{LIST}{body['id']}/").json()
    assert "secret" not in detail


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "ftp://93.184.216.34/",
        "https://user:pw@93.184.216.34/",
    ],
)
def test_private_or_odd_urls_are_a_400_naming_url(user_client, url):
    response = user_client.post(LIST, {"url": url}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"url"}
    assert not WebhookSubscription.objects.exists()


def test_private_urls_are_accepted_when_configured(user_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    assert (
        user_client.post(
            LIST, {"url": "http://127.0.0.1:9/"}, format="json"
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"types": ["signal.exploded"]}, "types"),
        ({"pairs": ["eurusd"]}, "pairs"),
        ({"timeframes": ["2h"]}, "timeframes"),
        ({"min_confidence": 101}, "min_confidence"),
    ],
)
def test_bad_filters_are_a_400_naming_them(user_client, body, field):
    response = create(user_client, **body)
    assert response.status_code == 400 and set(response.json()) == {field}


def test_at_most_webhook_max_per_user(user_client, other_client, settings):
    settings.WEBHOOK_MAX_PER_USER = 2
    assert [create(user_client).status_code for _ in range(3)] == [201, 201, 400]
    assert create(other_client).status_code == 201  # per user


def test_another_users_subscription_is_404_for_every_method(user_client, other_client):
    created = create(user_client).json()
    url = f"{LIST}{created['id']}/"
    assert other_client.get(url).status_code == 404
    assert other_client.patch(url, {"pairs": []}, format="json").status_code == 404
    assert other_client.delete(url).status_code == 404
    assert other_client.get(f"{url}deliveries/").status_code == 404
    assert other_client.get(LIST).json()["results"] == []
    assert user_client.get(url).status_code == 200


def test_patch_changes_filters_and_state_but_never_the_secret(user_client):
    created = create(user_client).json()
    url = f"{LIST}{created['id']}/"
    response = user_client.patch(
        url, {"pairs": ["GBP/USD"], "state": "disabled", "secret": "x"}, format="json"
    )
    assert response.status_code == 200
    assert (
        response.json()["pairs"] == ["GBP/USD"]
        and response.json()["state"] == "disabled"
    )
    assert WebhookSubscription.objects.get().secret == created["secret"]


def test_delete_is_204(user_client):
    created = create(user_client).json()
    assert user_client.delete(f"{LIST}{created['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_anonymous_is_401(api_client):
    assert api_client.get(LIST).status_code == 401
    assert create(api_client).status_code == 401


def deliveries(subscription_id: int, count: int, state: str = DeliveryState.FAILED):
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            subscription_id=subscription_id,
            event_id=n + 1,
            event_type="signal.created",
            body="{}",
            state=state,
            attempts=8,
            last_status=500,
        )
        for n in range(count)
    )


def test_deliveries_are_listed_newest_first_in_constant_queries(
    user_client, django_assert_max_num_queries
):
    created = create(user_client).json()
    url = f"{LIST}{created['id']}/deliveries/"
    deliveries(created["id"], 3)
    with django_assert_max_num_queries(4):
        response = user_client.get(url)
    assert response.status_code == 200
    body = response.json()
    assert [d["event_id"] for d in body["results"]] == [3, 2, 1]
    assert set(body["results"][0]) == {
        "id",
        "event_id",
        "event_type",
        "state",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    }
    deliveries(created["id"], 0)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            subscription_id=created["id"], event_id=100 + n, event_type="x", body="{}"
        )
        for n in range(40)
    )
    with django_assert_max_num_queries(4):
        assert user_client.get(url).status_code == 200


def test_a_failed_delivery_is_retried_with_202_and_only_a_failed_one(user_client):
    created = create(user_client).json()
    deliveries(created["id"], 1)
    delivery = WebhookDelivery.objects.get()
    url = f"{LIST}{created['id']}/deliveries/{delivery.id}/retry/"
    response = user_client.post(url)
    assert response.status_code == 202 and response.json()["state"] == "pending"
    response = user_client.post(url)  # pending now
    assert response.status_code == 400
    assert response.json() == {"state": ["Only a failed delivery is retried."]}
    delivery.refresh_from_db()
    assert delivery.attempts == 0 and delivery.next_attempt_at is not None


def test_another_users_delivery_cannot_be_retried(user_client, other_client):
    created = create(user_client).json()
    deliveries(created["id"], 1)
    delivery = WebhookDelivery.objects.get()
    url = f"{LIST}{created['id']}/deliveries/{delivery.id}/retry/"
    assert other_client.post(url).status_code == 404
