"""The response cache (api/caching.py): hits, keys, the breaker, and instant
invalidation from every writer. The WSGI fast path is tested in test_fast_path."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from rest_framework.test import APIRequestFactory

from api import cache_breaker
from conftest import UNREACHABLE_CACHES
from market.tests.factories import candles_create
from signals.generation import signals_generate
from signals.models import Signal
from signals.tests.factories import START, SignalFactory, signal_payload
from signals.tests.test_generation import wave_trend

pytestmark = pytest.mark.django_db
LIST = "/api/signals/"
READS = (LIST, "/api/signals/feed/", "/api/signals/stats/")


def cache_state(client, path: str, **headers: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path, **headers)
    assert response.status_code == 200, response.content[:300]
    return response["X-Cache"]


def test_second_read_is_a_hit_with_the_same_body(api_client, any_cache):
    signal = SignalFactory()
    for path in (*READS, f"/api/signals/{signal.id}/"):
        first = api_client.get(path)
        second = api_client.get(path)
        assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
        assert second.content == first.content
        assert second["Content-Type"] == first["Content-Type"] == "application/json"


def test_the_query_is_normalised_but_every_parameter_counts(api_client, any_cache):
    SignalFactory(pair="EUR/USD")
    SignalFactory(pair="GBP/USD")
    assert cache_state(api_client, f"{LIST}?pair=EUR/USD&status=active") == "MISS"
    assert cache_state(api_client, f"{LIST}?status=active&pair=EUR/USD") == "HIT"
    other = api_client.get(f"{LIST}?pair=GBP/USD&status=active")
    assert other["X-Cache"] == "MISS"
    assert [s["pair"] for s in other.json()["results"]] == ["GBP/USD"]


def test_unreachable_cache_is_skipped_for_a_while_then_tried_again(
    api_client, settings, redis_cache
):
    """The breaker: after a failure the cache is left alone (no timeout per
    operation) and the API answers from the database; then it is used again."""
    SignalFactory()
    reachable = settings.CACHES
    settings.CACHES = UNREACHABLE_CACHES
    assert api_client.get(LIST)["X-Cache"] == "MISS"
    assert not cache_breaker.cache_available()
    settings.CACHES = reachable
    for _ in range(2):  # still open: not even the reachable cache is asked
        assert api_client.get(LIST)["X-Cache"] == "MISS"
    cache_breaker.cache_reset()  # five seconds later
    api_client.get(LIST)
    assert api_client.get(LIST)["X-Cache"] == "HIT"


def test_links_follow_the_host_asked_for(api_client, any_cache, settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    SignalFactory.create_batch(3)
    page = f"{LIST}?page_size=1"
    for host in ("a.example", "b.example", "a.example"):
        links = api_client.get(page, HTTP_HOST=host).json()
        assert links["next"].startswith(f"http://{host}/")


def test_html_is_never_cached(api_client, settings, any_cache):
    SignalFactory()
    for _ in range(2):
        response = api_client.get(LIST, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert "X-Cache" not in response
    # Nor stored under the JSON answer's key: the first JSON read is a miss.
    assert cache_state(api_client, LIST) == "MISS"


def test_switched_off_nothing_is_cached(api_client, settings, any_cache):
    settings.ENABLE_CACHE = False
    SignalFactory()
    for _ in range(2):
        assert "X-Cache" not in api_client.get(LIST)


# Instant invalidation: each writer, then the very next read misses and is fresh.


def assert_all_fresh(client, after) -> None:  # type: ignore[no-untyped-def]
    for path in READS:
        client.get(path)
        assert cache_state(client, path) == "HIT"
    after()
    for path in READS:
        assert cache_state(client, path) == "MISS"


def test_api_writes_invalidate(
    api_client, staff_client, any_cache, django_capture_on_commit_callbacks
):
    signal = SignalFactory()
    writes = [
        lambda: staff_client.post(LIST, signal_payload(), format="json"),
        lambda: staff_client.patch(
            f"/api/signals/{signal.id}/", {"confidence": 70}, format="json"
        ),
        lambda: staff_client.post(
            "/api/signals/bulk/",
            [signal_payload(timestamp="2026-03-01T00:00:00Z")],
            format="json",
        ),
        lambda: staff_client.patch(
            "/api/signals/bulk/", [{"id": signal.id, "confidence": 71}], format="json"
        ),
    ]
    for write in writes:

        def run(write=write):  # type: ignore[no-untyped-def]
            with django_capture_on_commit_callbacks(execute=True):
                assert write().status_code in (200, 201)

        assert_all_fresh(api_client, run)
    assert api_client.get(f"/api/signals/{signal.id}/").json()["confidence"] == 71


def test_generation_invalidates(
    api_client, django_capture_on_commit_callbacks, any_cache
):
    candles_create("EUR/USD", *wave_trend(+1))

    def generate() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            assert signals_generate(pairs=["EUR/USD"], timeframe="1h").generated

    assert_all_fresh(api_client, generate)
    assert api_client.get(LIST).json()["count"] == 1


def test_generate_command_invalidates(
    api_client, django_capture_on_commit_callbacks, any_cache
):
    candles_create("EUR/USD", *wave_trend(+1))

    def generate() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("generate_signals", "--pairs", "EUR/USD", stdout=None)

    assert_all_fresh(api_client, generate)
    assert api_client.get(LIST).json()["count"] == 1


def test_outcome_backfill_invalidates(
    api_client, django_capture_on_commit_callbacks, any_cache
):
    signal = SignalFactory(timestamp=START)
    candles_create("EUR/USD", (1.1, 1.12), (1.1, 1.1), (1.1, 1.115))

    def backfill() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("backfill_outcomes", stdout=None)

    assert_all_fresh(api_client, backfill)
    assert api_client.get(f"/api/signals/{signal.id}/").json()["outcome"] == "win"


def test_admin_delete_invalidates(
    api_client, client, staff_user, django_capture_on_commit_callbacks, any_cache
):
    signal = SignalFactory()
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)

    def delete() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/admin/signals/signal/{signal.id}/delete/", {"post": "yes"}
            )
            assert response.status_code == 302

    assert_all_fresh(api_client, delete)
    assert not Signal.objects.exists()
    assert api_client.get(LIST).json()["count"] == 0


def test_every_view_under_the_public_prefix_takes_the_anonymous_limit():
    """The fast path counts every anonymous GET under a public prefix, trusting that
    DRF's AnonMinuteThrottle would have counted it too (and reuses the count)."""
    from django.urls import get_resolver

    from api.caching import PUBLIC_PREFIXES
    from api.throttling import AnonMinuteThrottle

    def walk(resolver, prefix=""):  # type: ignore[no-untyped-def]
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern, route)
            else:
                yield "/" + route.replace("^", "").replace("$", ""), pattern.callback

    views = [(route, view) for route, view in walk(get_resolver())
             if route.startswith(tuple(PUBLIC_PREFIXES))]  # fmt: skip
    assert len(views) >= 5
    for route, view in views:
        throttles = view.cls().get_throttles()
        assert any(isinstance(t, AnonMinuteThrottle) for t in throttles), route


@pytest.mark.redis
def test_a_bump_lost_to_an_outage_is_made_before_the_next_read(
    api_client, staff_client, settings, redis_cache, django_capture_on_commit_callbacks
):
    """A write while Redis is unreachable cannot bump the version; answers cached
    before the outage must not come back as fresh once Redis answers again."""
    signal = SignalFactory(confidence=60)
    detail = f"/api/signals/{signal.id}/"
    api_client.get(detail)
    assert api_client.get(detail)["X-Cache"] == "HIT"
    reachable = settings.CACHES
    settings.CACHES = UNREACHABLE_CACHES  # a refused connection
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.patch(detail, {"confidence": 61}, format="json")
    assert response.status_code == 200
    settings.CACHES = reachable  # back, and the breaker's five seconds are over:
    cache_breaker.cache_reset()
    fresh = api_client.get(detail)
    assert fresh["X-Cache"] == "MISS" and fresh.json()["confidence"] == 61


def test_a_poll_with_the_etag_it_was_given_gets_a_bodiless_304(api_client, any_cache):
    SignalFactory()
    for path in READS:
        first = api_client.get(path)
        etag = first["ETag"]
        again = api_client.get(path, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag
    SignalFactory()  # a write: the answers change, and so do their tags
    changed = api_client.get(LIST, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


class SlowAnswer:
    """A cached GET handler that takes a while and counts its computations."""

    def __init__(self) -> None:
        self.computed = 0
        self.lock = threading.Lock()

    def view(self):  # type: ignore[no-untyped-def]
        from rest_framework.response import Response
        from rest_framework.views import APIView

        from api.caching import cached_response

        answer = self

        class View(APIView):
            authentication_classes: list = []
            throttle_classes: list = []

            @cached_response(namespace=lambda request: "single-flight")
            def get(self, request):  # type: ignore[no-untyped-def]
                with answer.lock:
                    answer.computed += 1
                    number = answer.computed
                time.sleep(0.3)  # long enough for every reader to miss meanwhile
                return Response({"computed": number})

        return View.as_view()


def test_concurrent_misses_wait_for_one_computation(any_cache):
    from api.caching import cache_bump

    slow = SlowAnswer()
    view, factory = slow.view(), APIRequestFactory()
    barrier = threading.Barrier(16)

    def read(_: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        response = view(factory.get("/single-flight/"))
        if hasattr(response, "render"):
            response.render()  # a computed answer; a shared one comes as bytes
        return response["X-Cache"], json.loads(response.content)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(read, range(16)))
    assert slow.computed == 1
    assert sorted(cache for cache, _ in answers) == ["HIT"] * 15 + ["MISS"]
    assert {body["computed"] for _, body in answers} == {1}
    # After a bump the next readers get the new answer, again computed once.
    cache_bump("single-flight")
    barrier.reset()
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(read, range(16)))
    assert slow.computed == 2
    assert {body["computed"] for _, body in answers} == {2}


def test_a_waiting_reader_computes_itself_when_the_claim_outlives_the_wait(
    any_cache, settings
):
    settings.CACHE_FILL_WAIT_SECONDS = 0.05
    slow = SlowAnswer()
    view, factory = slow.view(), APIRequestFactory()
    barrier = threading.Barrier(2)

    def read(_: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return view(factory.get("/single-flight/"))["X-Cache"]

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(read, range(2))) == ["MISS", "MISS"]
    assert slow.computed == 2
