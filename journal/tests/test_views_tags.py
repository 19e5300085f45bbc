"""Tags: the user's own labels on entries, and the tag filters."""

import pytest

from journal.models import JournalEntry, Tag
from journal.tests.factories import entry_payload

pytestmark = pytest.mark.django_db
LIST, STATS, BULK = "/api/journal/", "/api/journal/stats/", "/api/journal/bulk/"


def create(client, tags: list[str], **overrides) -> dict:  # type: ignore[no-untyped-def]
    response = client.post(LIST, entry_payload(tags=tags, **overrides), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_tags_are_lower_cased_merged_and_sorted(user, user_client):
    body = create(user_client, ["News", "a grade", "news", "x_1-y"])
    assert body["tags"] == ["a grade", "news", "x_1-y"]
    assert user_client.get(f"{LIST}{body['id']}/").json()["tags"] == body["tags"]
    assert sorted(Tag.objects.filter(owner=user).values_list("name", flat=True)) == [
        "a grade",
        "news",
        "x_1-y",
    ]
    assert create(user_client, [])["tags"] == []


@pytest.mark.parametrize(
    "tags",
    [
        ["-starts-with-dash"],
        [""],
        ["x" * 41],
        ["semi;colon"],
        [f"t{n}" for n in range(21)],
        "news",
        [1],
    ],
)
def test_bad_tags_are_400_naming_tags_and_write_nothing(user_client, tags):
    response = user_client.post(LIST, entry_payload(tags=tags), format="json")
    assert response.status_code == 400 and "tags" in response.json()
    bulk = user_client.post(
        BULK, [entry_payload(), entry_payload(tags=tags)], format="json"
    )
    assert bulk.status_code == 400
    assert not JournalEntry.objects.exists() and not Tag.objects.exists()


def test_twenty_tags_are_allowed(user_client):
    tags = [f"t{n:02}" for n in range(20)]
    assert create(user_client, tags)["tags"] == tags


def test_patch_replaces_the_tags_and_leaves_them_when_not_given(user_client):
    body = create(user_client, ["a", "b"])
    path = f"{LIST}{body['id']}/"
    assert user_client.patch(path, {"notes": "x"}, format="json").json()["tags"] == [
        "a",
        "b",
    ]
    changed = user_client.patch(path, {"tags": ["C", "b"]}, format="json").json()
    assert changed["tags"] == ["b", "c"]
    assert user_client.patch(path, {"tags": []}, format="json").json()["tags"] == []


def test_list_and_stats_filter_on_any_or_all_tags(user_client):
    create(user_client, ["news"])
    create(user_client, ["news", "fomo"], exit_price=1.09)
    create(user_client, ["fomo"])
    create(user_client, [])

    def count(path: str, query: str) -> int:
        body = user_client.get(f"{path}?{query}").json()
        return body["count"] if path == LIST else body["total_trades"]

    for path in (LIST, STATS):
        assert count(path, "tag=news") == 2
        assert count(path, "tag=NEWS,fomo") == 3
        assert count(path, "tag=news,fomo&tag_mode=any") == 3
        assert count(path, "tag=news,fomo&tag_mode=all") == 1
        assert count(path, "tag=nothing") == 0
        assert count(path, "tag_mode=all") == 4  # no tag: no tag filter
    stats = user_client.get(f"{STATS}?tag=news&tag_mode=all").json()
    assert (stats["wins"], stats["losses"]) == (1, 1)


@pytest.mark.parametrize(
    "query, name",
    [("tag=-x", "tag"), ("tag=", "tag"), ("tag=a&tag_mode=some", "tag_mode")],
)
def test_bad_tag_filters_are_400_naming_them(user_client, query, name):
    for path in (LIST, STATS):
        response = user_client.get(f"{path}?{query}")
        assert response.status_code == 400 and name in response.json()


def test_bulk_tags_take_a_constant_number_of_queries(
    user_client, django_assert_max_num_queries
):
    items = [entry_payload(tags=[f"t{n % 7}", "all"]) for n in range(30)]
    user_client.post(BULK, items[:1], format="json")  # the default account exists
    with django_assert_max_num_queries(16):
        assert user_client.post(BULK, items, format="json").status_code == 201
    assert Tag.objects.count() == 8


def test_the_same_tag_name_of_two_users_is_two_tags(user_client, other_client):
    mine = create(user_client, ["news"])
    create(other_client, ["news"])
    assert Tag.objects.filter(name="news").count() == 2
    listed = user_client.get(f"{LIST}?tag=news").json()
    assert [item["id"] for item in listed["results"]] == [mine["id"]]
