"""The anonymous WSGI fast path ahead of Django (api/fast_path.py): hits served
without Django, its keys, encodings, credentials, the anonymous limit and ETags."""

import gzip
import json
from dataclasses import dataclass

import brotli
import pytest
from django.test.client import ClientHandler, RequestFactory
from rest_framework.authtoken.models import Token

from api import throttling
from api.fast_path import AnonymousCacheApp
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db
LIST = "/api/signals/"


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


def test_a_hit_keeps_every_header_of_the_full_answer(wsgi, any_cache):
    SignalFactory()
    first = wsgi.get(LIST)
    assert wsgi.django_calls == 1 and first.headers["X-Cache"] == "MISS"
    second = wsgi.get(LIST)
    assert wsgi.django_calls == 1, "a hit must not reach Django"
    assert second.headers["X-Cache"] == "HIT" and second.content == first.content
    varying = {"X-Cache", "X-Response-Time", "X-Request-ID", "Date", "RateLimit"}
    assert {k: v for k, v in first.headers.items() if k not in varying} == {
        k: v for k, v in second.headers.items() if k not in varying
    }
    assert second.headers["X-Frame-Options"] == "DENY"
    assert second.headers["X-Response-Time"].endswith("ms")


def test_the_key_from_the_raw_query_is_normalised_but_every_parameter_counts(
    wsgi, any_cache
):
    SignalFactory(pair="EUR/USD")
    SignalFactory(pair="GBP/USD")
    wsgi.get(f"{LIST}?pair=EUR/USD&status=active")
    fast = wsgi.get(f"{LIST}?status=active&pair=EUR/USD")
    assert fast.headers["X-Cache"] == "HIT" and wsgi.django_calls == 1
    theirs = wsgi.get(f"{LIST}?status=active&pair=GBP/USD")
    assert theirs.headers["X-Cache"] == "MISS" and wsgi.django_calls == 2
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


def test_links_follow_the_host_asked_for(wsgi, any_cache, settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    SignalFactory.create_batch(3)
    page = f"{LIST}?page_size=1"
    for host in ("a.example", "b.example", "a.example", "b.example"):
        links = wsgi.get(page, HTTP_HOST=host).json()
        assert links["next"].startswith(f"http://{host}/")
    assert wsgi.django_calls == 2  # the repeats were hits, each of its own host


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


def test_fast_path_hits_are_in_the_route_metrics(wsgi, staff_client, any_cache):
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


def test_switched_off_the_fast_path_passes_everything_on(wsgi, settings, any_cache):
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


def test_a_hit_counts_down_the_anonymous_quota(wsgi, settings, any_cache):
    settings.RATE_LIMIT_PER_MINUTE = 100
    SignalFactory()
    first, second = wsgi.get(LIST), wsgi.get(LIST)
    assert second.headers["X-Cache"] == "HIT"
    remaining = [
        int(r.headers["RateLimit"].split(";r=")[1].split(";")[0])
        for r in (first, second)
    ]
    assert remaining[1] == remaining[0] - 1
    assert second.headers["RateLimit-Policy"] == '"anon";q=100;w=60'
