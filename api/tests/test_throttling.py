import pytest

from api import throttling
from conftest import UNREACHABLE_CACHES

pytestmark = pytest.mark.django_db
MINUTE_START = 1_800_000_000 - 1_800_000_000 % 60


@pytest.fixture
def pinned_clock(monkeypatch):
    now = [MINUTE_START + 10.0]
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
    return now


def test_anonymous_clients_are_limited_per_minute_with_retry_after(
    api_client, settings, pinned_clock, any_cache
):
    settings.RATE_LIMIT_PER_MINUTE = 3
    statuses = [api_client.get("/api/signals/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api_client.get("/api/signals/")
    assert response.status_code == 429 and response["Retry-After"] == "50"
    pinned_clock[0] += 60  # the next minute starts afresh
    assert api_client.get("/api/signals/").status_code == 200


def test_a_forged_forwarded_for_does_not_dodge_the_limit(
    api_client, settings, pinned_clock, any_cache
):
    settings.RATE_LIMIT_PER_MINUTE = 2
    settings.NUM_PROXIES = 0
    codes = [
        api_client.get("/api/signals/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def test_behind_one_proxy_the_address_it_saw_is_the_client(
    api_client, settings, pinned_clock, any_cache
):
    settings.RATE_LIMIT_PER_MINUTE = 1
    settings.NUM_PROXIES = 1
    get = api_client.get
    assert (
        get("/api/signals/", HTTP_X_FORWARDED_FOR="1.1.1.1, 9.9.9.9").status_code == 200
    )
    # Same real client (9.9.9.9) with a different claim on the left: still limited.
    assert (
        get("/api/signals/", HTTP_X_FORWARDED_FOR="2.2.2.2, 9.9.9.9").status_code == 429
    )
    assert get("/api/signals/", HTTP_X_FORWARDED_FOR="8.8.8.8").status_code == 200


def test_users_have_their_own_budget(
    user_client, api_client, settings, pinned_clock, any_cache
):
    settings.RATE_LIMIT_PER_MINUTE = 1
    settings.RATE_LIMIT_USER_PER_MINUTE = 2
    assert api_client.get("/api/signals/").status_code == 200
    assert api_client.get("/api/signals/").status_code == 429
    codes = [user_client.get("/api/signals/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_limit_fails_open_when_the_cache_is_down(api_client, settings):
    settings.RATE_LIMIT_PER_MINUTE = 1
    settings.CACHES = UNREACHABLE_CACHES
    assert [api_client.get("/api/signals/").status_code for _ in range(3)] == [200] * 3


def test_health_is_never_throttled(api_client, settings, pinned_clock, any_cache):
    settings.RATE_LIMIT_PER_MINUTE = 1
    assert {api_client.get("/api/health").status_code for _ in range(5)} == {200}


def test_ratelimit_headers_count_down_and_reset_with_the_minute(
    api_client, settings, pinned_clock, any_cache
):
    settings.RATE_LIMIT_PER_MINUTE = 3
    answers = [api_client.get("/api/signals/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert {a["RateLimit-Policy"] for a in answers} == {'"anon";q=3;w=60'}
    assert [a["RateLimit"] for a in answers] == [
        '"anon";r=2;t=50',
        '"anon";r=1;t=50',
        '"anon";r=0;t=50',
        '"anon";r=0;t=50',
    ]
    pinned_clock[0] += 75  # the next minute, 25 s into it
    fresh = api_client.get("/api/signals/")
    assert fresh.status_code == 200 and fresh["RateLimit"] == '"anon";r=2;t=35'


def test_a_user_sees_their_own_quota(user_client, settings, pinned_clock, any_cache):
    settings.RATE_LIMIT_USER_PER_MINUTE = 5
    response = user_client.get("/api/journal/")
    assert response["RateLimit-Policy"] == '"user";q=5;w=60'
    assert response["RateLimit"] == '"user";r=4;t=50'


def test_the_login_limit_reports_its_quota(api_client, settings, pinned_clock):
    settings.LOGIN_RATE_LIMIT_PER_MINUTE = 2
    body = {"username": "nobody", "password": "wrong"}
    answers = [
        api_client.post("/api/auth/token/", body, format="json") for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[0]["RateLimit-Policy"] == '"login";q=2;w=60'
    assert [a["RateLimit"] for a in answers] == [
        '"login";r=1;t=50',
        '"login";r=0;t=50',
        '"login";r=0;t=50',
    ]


def test_unlimited_answers_carry_no_ratelimit_headers(api_client, any_cache):
    response = api_client.get("/api/health")
    assert "RateLimit" not in response and "RateLimit-Policy" not in response
