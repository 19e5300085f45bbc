from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from signals.tests.factories import START, SignalFactory

pytestmark = pytest.mark.django_db


def walk(client, url):
    """Follow `next` links to the end; returns every page's ids."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        pages.append([item["id"] for item in body["results"]])
        url = body["next"]
    return pages


def test_feed_visits_every_signal_once_newest_first_even_with_tied_timestamps(
    api_client,
):
    signals = [
        SignalFactory(timestamp=START + timedelta(hours=n // 3), strategy=f"s{n % 3}")
        for n in range(10)
    ]
    pages = walk(api_client, "/api/signals/feed/?page_size=4")
    ids = [pk for page in pages for pk in page]
    expected = sorted(signals, key=lambda s: (s.timestamp, s.id), reverse=True)
    assert ids == [s.id for s in expected]
    assert [len(page) for page in pages] == [4, 4, 2]


def test_feed_applies_filters(api_client):
    SignalFactory.create_batch(3)
    keep = SignalFactory.create_batch(3, pair="GBP/USD")
    pages = walk(api_client, "/api/signals/feed/?page_size=2&pair=GBP/USD")
    assert sorted(pk for page in pages for pk in page) == sorted(s.id for s in keep)


def test_feed_previous_link_returns_the_page_before(api_client):
    SignalFactory.create_batch(7)
    first = api_client.get("/api/signals/feed/?page_size=3").json()
    assert first["previous"] is None
    second = api_client.get(first["next"]).json()
    back = api_client.get(second["previous"]).json()
    assert [i["id"] for i in back["results"]] == [i["id"] for i in first["results"]]
    assert back["previous"] is None


def test_feed_of_nothing_has_no_links(api_client):
    assert api_client.get("/api/signals/feed/").json() == {
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.parametrize("cursor", ["garbage", "", "eyJhIjoxfQ:1abc:def"])
def test_tampered_cursor_is_400(api_client, cursor):
    response = api_client.get(f"/api/signals/feed/?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_a_cursor_with_an_altered_payload_is_400(api_client):
    SignalFactory.create_batch(3)
    next_url = api_client.get("/api/signals/feed/?page_size=1").json()["next"]
    cursor = parse_qs(urlparse(next_url).query)["cursor"][0]
    tampered = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    assert api_client.get(f"/api/signals/feed/?cursor={tampered}").status_code == 400


def test_feed_cost_does_not_grow_with_depth(api_client, django_assert_max_num_queries):
    SignalFactory.create_batch(30)
    url = "/api/signals/feed/?page_size=5"
    for _ in range(5):
        with django_assert_max_num_queries(1):
            url = api_client.get(url).json()["next"]


def test_a_page_number_past_any_offset_is_404(api_client):
    response = api_client.get(f"/api/signals/?page={10**20}")
    assert response.status_code == 404 and "page" in response.json()
