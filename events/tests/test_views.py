from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.models import Event
from events.tests.factories import event_create

pytestmark = pytest.mark.django_db
URL = "/api/events/"


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [event["id"] for event in response.json()["results"]]


def test_log_reads_forward_from_after_with_the_contract_body(api_client):
    first, second, third = (event_create() for _ in range(3))
    response = api_client.get(URL, {"after": first.id})
    assert response.status_code == 200
    body = response.json()
    assert body["after"] == third.id
    assert [e["id"] for e in body["results"]] == [second.id, third.id]
    event = body["results"][0]
    assert set(event) == {"id", "type", "occurred_at", "data"}
    assert event["type"] == "signal.created" and event["occurred_at"].endswith("Z")
    assert event["data"] == {"pair": "EUR/USD", "timeframe": "1h", "confidence": 65.0}


def test_an_empty_page_keeps_the_after_it_was_given(api_client):
    event_create()
    response = api_client.get(URL, {"after": 10**6})
    assert response.status_code == 200
    assert response.json() == {"results": [], "after": 10**6}


def test_limit_pages_through_the_log(api_client):
    made = [event_create().id for _ in range(5)]
    seen, after = [], 0
    while True:
        response = api_client.get(URL, {"after": after, "limit": 2})
        assert response.status_code == 200
        if not response.json()["results"]:
            break
        seen += ids(response)
        after = response.json()["after"]
    assert seen == made


def test_filters_by_type_pair_timeframe_and_min_confidence(api_client):
    a = event_create("signal.created", pair="EUR/USD", confidence="80")
    b = event_create("signal.updated", pair="GBP/USD", confidence="50")
    c = event_create("signal.resolved", pair="EUR/USD", timeframe="4h")
    assert ids(api_client.get(URL, {"type": "signal.created,signal.resolved"})) == [
        a.id,
        c.id,
    ]
    assert ids(api_client.get(URL, {"pair": "GBP/USD"})) == [b.id]
    assert ids(api_client.get(URL, {"pair": "GBP/USD,EUR/USD"})) == [a.id, b.id, c.id]
    assert ids(api_client.get(URL, {"timeframe": "4h"})) == [c.id]
    assert ids(api_client.get(URL, {"min_confidence": "65.5"})) == [a.id]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"after": "-1"}, "after"),
        ({"after": "x"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"type": "signal.deleted"}, "type"),
        ({"pair": ","}, "pair"),
        ({"pair": "eurusd"}, "pair"),
        ({"pair": "EUR/USD,eur/usd"}, "pair"),
        ({"timeframe": "toolong"}, "timeframe"),
        ({"timeframe": "9x"}, "timeframe"),
        ({"min_confidence": "101"}, "min_confidence"),
        ({"min_confidence": "NaN"}, "min_confidence"),
    ],
)
def test_malformed_parameters_are_a_400_naming_them(api_client, params, name):
    response = api_client.get(URL, params)
    assert response.status_code == 400
    assert list(response.json()) == [name]


def test_query_count_does_not_grow_with_the_page(api_client, django_assert_num_queries):
    for _ in range(3):
        event_create()
    with django_assert_num_queries(2):
        assert api_client.get(URL, {"limit": 1}).status_code == 200
    for _ in range(20):
        event_create()
    with django_assert_num_queries(2):
        response = api_client.get(URL, {"limit": 1000})
        assert response.status_code == 200
    assert len(ids(response)) == 23


def test_after_below_what_pruning_deleted_is_a_410_with_the_oldest_id(
    api_client, capsys
):
    old = timezone.now() - timedelta(days=31)
    pruned = [event_create(occurred_at=old).id for _ in range(3)]
    kept = event_create()
    call_command("prune_events")
    assert "Deleted 3 events." in capsys.readouterr().out
    assert list(Event.objects.values_list("id", flat=True)) == [kept.id]
    response = api_client.get(URL, {"after": 0})
    assert response.status_code == 410
    assert response.json()["oldest_id"] == kept.id and "detail" in response.json()
    assert api_client.get(URL, {"after": pruned[1]}).status_code == 410
    response = api_client.get(URL, {"after": pruned[-1]})
    assert response.status_code == 200 and ids(response) == [kept.id]


def test_prune_events_days_option_and_retention_setting(settings):
    settings.EVENT_RETENTION_DAYS = 2
    event_create(occurred_at=timezone.now() - timedelta(days=3))
    recent = event_create(occurred_at=timezone.now() - timedelta(days=1))
    call_command("prune_events")
    assert list(Event.objects.values_list("id", flat=True)) == [recent.id]
    call_command("prune_events", "--days", "0")
    assert not Event.objects.exists()


def test_the_log_is_throttled_like_the_signal_list(api_client, settings):
    settings.RATE_LIMIT_PER_MINUTE = 2
    assert api_client.get(URL).status_code == 200
    assert api_client.get(URL).status_code == 200
    response = api_client.get(URL)
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_the_schema_documents_the_log(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/events/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "after",
        "limit",
        "type",
        "pair",
        "timeframe",
        "min_confidence",
    }
    assert {"200", "400", "410"} <= set(operation["responses"])
