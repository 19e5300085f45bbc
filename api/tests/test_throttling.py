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
