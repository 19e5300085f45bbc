"""The signals' response cache: hits, keys, instant invalidation from every writer,
and the anonymous WSGI fast path ahead of Django (api/caching.py)."""

import gzip
import json
from dataclasses import dataclass

import brotli
import pytest
from django.core.management import call_command
from django.test.client import ClientHandler, RequestFactory
from rest_framework.authtoken.models import Token

from api import cache_breaker, throttling
from api.fast_path import AnonymousCacheApp
from conftest import UNREACHABLE_CACHES
from market.tests.factories import candles_create
from signals.generation import signals_generate
from signals.models import Signal
from signals.tests.factories import START, SignalFactory, signal_payload
from signals.tests.test_generation import wave_trend

pytestmark = pytest.mark.django_db
LIST = "/api/signals/"
READS = (LIST, "/api/signals/feed/", "/api/signals/stats/")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    content: bytes

    def json(self):  # type: ignore[no-untyped-def]
        return json.loads(self.content)


class Wsgi:
    """The production WSGI stack (AnonymousCacheApp in front of Django), with the
    test client's handler as Django so that the test's transaction is kept."""

    def __init__(self) -> None:
        self.django_calls = 0
        self.handler = ClientHandler(enforce_csrf_checks=False)
        self.app = AnonymousCacheApp(self.django)
        self.factory = RequestFactory()

    def django(self, environ, start_response):  # type: ignore[no-untyped-def]
        self.django_calls += 1
        response = self.handler(environ)
        start_response(f"{response.status_code} {response.reason_phrase}",
                       list(response.items()))  # fmt: skip
        return [response.content]

    def get(self, path: str, **environ: str) -> Answer:
        answer = Answer(0, {}, b"")

        def start_response(status, headers):  # type: ignore[no-untyped-def]
            answer.status, answer.headers = int(status.split()[0]), dict(headers)

        request = self.factory.get(path, HTTP_ACCEPT="application/json", **environ)
        answer.content = b"".join(self.app(request.environ, start_response))
        return answer


@pytest.fixture
def wsgi() -> Wsgi:
    return Wsgi()


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


def test_a_hit_keeps_every_header_of_the_full_answer(wsgi, any_cache):
    SignalFactory()
    first = wsgi.get(LIST)
    assert wsgi.django_calls == 1 and first.headers["X-Cache"] == "MISS"
    second = wsgi.get(LIST)
    assert wsgi.django_calls == 1, "a hit must not reach Django"
    assert second.headers["X-Cache"] == "HIT" and second.content == first.content
    varying = {"X-Cache", "X-Response-Time", "Date"}
    assert {k: v for k, v in first.headers.items() if k not in varying} == {
        k: v for k, v in second.headers.items() if k not in varying
    }
    assert second.headers["X-Frame-Options"] == "DENY"
    assert second.headers["X-Response-Time"].endswith("ms")


def test_the_query_is_normalised_but_every_parameter_counts(
    api_client, wsgi, any_cache
):
    SignalFactory(pair="EUR/USD")
    SignalFactory(pair="GBP/USD")
    assert cache_state(api_client, f"{LIST}?pair=EUR/USD&status=active") == "MISS"
    assert cache_state(api_client, f"{LIST}?status=active&pair=EUR/USD") == "HIT"
    other = api_client.get(f"{LIST}?pair=GBP/USD&status=active")
    assert other["X-Cache"] == "MISS"
    assert [s["pair"] for s in other.json()["results"]] == ["GBP/USD"]
    # The same on the fast path, whose key is built from the raw query string.
    wsgi.get(f"{LIST}?pair=EUR/USD&status=active")
    fast = wsgi.get(f"{LIST}?status=active&pair=EUR/USD")
    assert fast.headers["X-Cache"] == "HIT" and wsgi.django_calls == 1
    theirs = wsgi.get(f"{LIST}?status=active&pair=GBP/USD")
    assert [s["pair"] for s in theirs.json()["results"]] == ["GBP/USD"]


def test_an_encoded_name_is_the_same_parameter_in_the_key(wsgi, any_cache):
    """page%5Fsize is page_size to Django, which reads a repeated one's last value."""
    SignalFactory.create_batch(6)
    for query, size in (
        ("page%5Fsize=5&page_size=1", 1),
        ("page_size=1&page%5Fsize=5", 5),
    ):
        for _ in range(2):
            assert len(wsgi.get(f"{LIST}?{query}").json()["results"]) == size
    assert wsgi.django_calls == 2


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


def test_a_repeated_parameter_keeps_its_order_in_the_key(wsgi, any_cache):
    """Django reads the last of a repeated parameter: the two orders differ."""
    SignalFactory(pair="EUR/USD")
    SignalFactory(pair="GBP/USD")
    for query, last in (("EUR/USD&pair=GBP/USD", "GBP/USD"),
                        ("GBP/USD&pair=EUR/USD", "EUR/USD")):  # fmt: skip
        for _ in range(2):
            answer = wsgi.get(f"{LIST}?pair={query}")
            assert {s["pair"] for s in answer.json()["results"]} == {last}
    assert wsgi.django_calls == 2


def test_links_follow_the_host_asked_for(api_client, wsgi, any_cache, settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    SignalFactory.create_batch(3)
    page = f"{LIST}?page_size=1"
    for get in (api_client.get, wsgi.get):
        for host in ("a.example", "b.example", "a.example"):
            links = get(page, HTTP_HOST=host).json()
            assert links["next"].startswith(f"http://{host}/")


def test_encodings_are_kept_apart_and_decode_to_the_same_json(wsgi, any_cache):
    SignalFactory.create_batch(30)
    path = f"{LIST}?page_size=30"
    plain = wsgi.get(path, HTTP_ACCEPT_ENCODING="identity")
    for coding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        miss = wsgi.get(path, HTTP_ACCEPT_ENCODING=coding)
        hit = wsgi.get(path, HTTP_ACCEPT_ENCODING=coding)
        assert hit.headers["X-Cache"] == "HIT"
        assert hit.headers["Content-Encoding"] == coding
        assert hit.content == miss.content
        assert json.loads(decode(hit.content)) == json.loads(plain.content)
    again = wsgi.get(path, HTTP_ACCEPT_ENCODING="identity")
    assert again.headers["X-Cache"] == "HIT" and "Content-Encoding" not in again.headers
    assert wsgi.django_calls == 3


def test_credentials_are_never_answered_from_the_anonymous_entry(wsgi, user, any_cache):
    SignalFactory()
    wsgi.get(LIST)
    assert wsgi.get(LIST).headers["X-Cache"] == "HIT" and wsgi.django_calls == 1
    # A bad token is a 401 whatever is cached, not a cached 200.
    assert wsgi.get(LIST, HTTP_AUTHORIZATION="Token not-a-token").status == 401
    # A junk session cookie goes to Django too (where it is anonymous).
    junk = wsgi.get(LIST, HTTP_COOKIE="sessionid=junk")
    assert junk.status == 200 and wsgi.django_calls == 3
    # A user gets the same public answer, through DRF (and the user's own limit).
    token = Token.objects.create(user=user)
    mine = wsgi.get(LIST, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert mine.headers["X-Cache"] == "HIT" and wsgi.django_calls == 4
    # Other cookies do not matter.
    assert wsgi.get(LIST, HTTP_COOKIE="theme=dark").headers["X-Cache"] == "HIT"
    assert wsgi.django_calls == 4


def test_html_is_never_cached(api_client, settings):
    SignalFactory()
    for _ in range(2):
        response = api_client.get(LIST, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert "X-Cache" not in response
    # Nor stored under the JSON answer's key: the first JSON read is a miss.
    assert cache_state(api_client, LIST) == "MISS"


def test_switched_off_nothing_is_cached(api_client, settings):
    settings.ENABLE_CACHE = False
    SignalFactory()
    for _ in range(2):
        assert "X-Cache" not in api_client.get(LIST)


def test_fast_path_hits_count_against_the_anonymous_limit(
    wsgi, settings, any_cache, monkeypatch
):
    monkeypatch.setattr(throttling, "clock", lambda: 1_800_000_010.0)  # one minute
    settings.RATE_LIMIT_PER_MINUTE = 3
    SignalFactory()
    answers = [wsgi.get(LIST) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert [a.headers.get("X-Cache") for a in answers[:3]] == ["MISS", "HIT", "HIT"]
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert "throttled" in answers[3].json()["detail"]
    # Counted once each, on the fast path or in DRF: a fifth is refused too, and
    # other clients (addresses) are not.
    assert wsgi.get(LIST).status == 429
    assert wsgi.get(LIST, REMOTE_ADDR="10.1.1.1").status == 200


def test_fast_path_hits_are_in_the_route_metrics(wsgi, staff_client):
    def counts() -> tuple[int, int]:
        routes = staff_client.get("/api/metrics").json()["performance"]
        return tuple(  # type: ignore[return-value]
            routes.get(key, {}).get("total_requests", 0)
            for key in ("GET /api/signals/", "GET <unmatched>")
        )

    SignalFactory()
    wsgi.get(LIST)
    before = counts()
    assert wsgi.get(LIST).headers["X-Cache"] == "HIT" and wsgi.django_calls == 1
    assert counts() == (before[0] + 1, before[1])


def test_switched_off_the_fast_path_passes_everything_on(wsgi, settings):
    settings.ENABLE_CACHE = False
    SignalFactory()
    for _ in range(2):
        assert "X-Cache" not in wsgi.get(LIST).headers
    assert wsgi.django_calls == 2


def test_the_fast_path_sees_writes_at_once(
    wsgi, staff_client, any_cache, django_capture_on_commit_callbacks
):
    signal = SignalFactory(confidence=60)
    detail = f"/api/signals/{signal.id}/"
    wsgi.get(detail)
    assert wsgi.get(detail).headers["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.patch(detail, {"confidence": 61}, format="json")
    fresh = wsgi.get(detail)
    assert fresh.headers["X-Cache"] == "MISS" and fresh.json()["confidence"] == 61


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


def test_generation_invalidates(api_client, django_capture_on_commit_callbacks):
    candles_create("EUR/USD", *wave_trend(+1))

    def generate() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            assert signals_generate(pairs=["EUR/USD"], timeframe="1h").generated

    assert_all_fresh(api_client, generate)
    assert api_client.get(LIST).json()["count"] == 1


def test_generate_command_invalidates(api_client, django_capture_on_commit_callbacks):
    candles_create("EUR/USD", *wave_trend(+1))

    def generate() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("generate_signals", "--pairs", "EUR/USD", stdout=None)

    assert_all_fresh(api_client, generate)
    assert api_client.get(LIST).json()["count"] == 1


def test_outcome_backfill_invalidates(api_client, django_capture_on_commit_callbacks):
    signal = SignalFactory(timestamp=START)
    candles_create("EUR/USD", (1.1, 1.12), (1.1, 1.1), (1.1, 1.115))

    def backfill() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            call_command("backfill_outcomes", stdout=None)

    assert_all_fresh(api_client, backfill)
    assert api_client.get(f"/api/signals/{signal.id}/").json()["outcome"] == "win"


def test_admin_delete_invalidates(
    api_client, client, staff_user, django_capture_on_commit_callbacks
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


def test_the_fast_path_answers_a_matching_etag_with_304_and_no_body(wsgi, any_cache):
    SignalFactory.create_batch(30)  # big enough to be compressed
    first = wsgi.get(LIST, HTTP_ACCEPT_ENCODING="br")
    wsgi.get(LIST, HTTP_ACCEPT_ENCODING="br")  # stored for the fast path now
    calls = wsgi.django_calls
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')  # compressed: the tag is weak
    polled = wsgi.get(LIST, HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH=etag)
    assert wsgi.django_calls == calls, "a 304 from the fast path does not reach Django"
    assert polled.status == 304 and polled.content == b""
    assert polled.headers["ETag"] == etag and "Content-Encoding" not in polled.headers
    other = wsgi.get(LIST, HTTP_ACCEPT_ENCODING="br", HTTP_IF_NONE_MATCH='"nope"')
    assert other.status == 200 and other.content == first.content
