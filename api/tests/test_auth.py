"""Login limits on the token endpoint and the admin login (defaults of the contract)."""

import time

import pytest

from api import login_limits, throttling
from signals.tests.factories import signal_payload

pytestmark = pytest.mark.django_db
MINUTE_START = 1_800_000_000 - 1_800_000_000 % 60
TOKEN_URL = "/api/auth/token/"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    now = [MINUTE_START + 10.0]
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
    return now


def token(client, username: str, password: str, ip: str = "192.0.2.1"):
    return client.post(
        TOKEN_URL,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_the_eleventh_quick_attempt_from_one_address_is_a_429(
    api_client, staff_user, any_cache
):
    # Other usernames each time: only the per-address limit is at work.
    codes = [token(api_client, f"nobody{n}", "wrong").status_code for n in range(10)]
    assert codes == [400] * 10
    refused = token(api_client, "staff", "pw-staff-1")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"  # the minute ends 50 s after MINUTE_START+10
    assert "address" in refused.json()["detail"]
    # Another address is not limited; the next minute starts afresh.
    assert token(api_client, "staff", "pw-staff-1", ip="192.0.2.2").status_code == 200


def test_the_next_minute_admits_the_address_again(
    api_client, staff_user, pinned_clock, any_cache
):
    for n in range(11):
        token(api_client, f"nobody{n}", "wrong")
    pinned_clock[0] += 60
    assert token(api_client, "staff", "pw-staff-1").status_code == 200


def test_a_username_is_locked_after_ten_failures_from_any_addresses(
    api_client, staff_user, user, any_cache
):
    for n in range(10):
        assert (
            token(api_client, "staff", "wrong", ip=f"198.51.100.{n}").status_code == 400
        )
    # Locked whatever the password and wherever it comes from.
    locked = token(api_client, "staff", "pw-staff-1", ip="203.0.113.9")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "300"  # the lockout, from the last failure
    assert "username" in locked.json()["detail"]
    # Another username from those addresses is not locked.
    assert (
        token(api_client, "alice", "pw-alice-1", ip="198.51.100.1").status_code == 200
    )


@pytest.fixture
def wall_clock(monkeypatch, pinned_clock):
    """The pinned clock for the cache backends too: LocMem's expiry and the SQLite
    store's read time.time."""
    monkeypatch.setattr(time, "time", lambda: pinned_clock[0])
    return pinned_clock


@pytest.mark.parametrize("backend", ["locmem", "local"])
def test_the_lockout_runs_from_the_last_failure(
    request, api_client, staff_user, settings, wall_clock, backend
):
    if backend == "local":
        request.getfixturevalue("local_cache")
    settings.LOGIN_LOCKOUT_SECONDS = 300
    for n in range(9):
        assert (
            token(api_client, "staff", "wrong", ip=f"198.51.100.{n}").status_code == 400
        )
    wall_clock[0] += 200
    assert token(api_client, "staff", "wrong", ip="198.51.100.9").status_code == 400
    locked = token(api_client, "staff", "pw-staff-1", ip="203.0.113.9")
    assert locked.status_code == 429 and locked["Retry-After"] == "300"
    # 499 s after the first failure, 299 s after the last: still locked.
    wall_clock[0] += 299
    assert token(api_client, "staff", "pw-staff-1", ip="203.0.113.9").status_code == 429
    # 300 s after the last failure (the refused attempts did not extend it): free.
    wall_clock[0] += 1
    assert token(api_client, "staff", "pw-staff-1", ip="203.0.113.9").status_code == 200


@pytest.mark.redis
def test_each_failure_refreshes_the_lockout_on_redis(
    api_client, staff_user, settings, redis_cache
):
    settings.LOGIN_LOCKOUT_SECONDS = 300
    from django.core.cache import cache

    client = cache.client.get_client(write=True)
    name = cache.client.make_key(login_limits.failures_key("staff"))
    for n in range(10):
        assert (
            token(api_client, "staff", "wrong", ip=f"198.51.100.{n}").status_code == 400
        )
        assert 295_000 < client.pttl(name) <= 300_000  # refreshed: 300 s again
        client.pexpire(name, 5_000)  # as if 295 s had passed since this failure
    locked = token(api_client, "staff", "pw-staff-1", ip="203.0.113.9")
    assert locked.status_code == 429 and locked["Retry-After"] == "5"
    assert client.pttl(name) <= 5_000  # a refused attempt does not extend it


def test_a_success_resets_the_failures_in_a_row(api_client, staff_user, any_cache):
    for n in range(9):
        token(api_client, "staff", "wrong", ip=f"198.51.100.{n}")
    assert token(api_client, "staff", "pw-staff-1", ip="203.0.113.1").status_code == 200
    for n in range(9):
        token(api_client, "staff", "wrong", ip=f"198.51.101.{n}")
    assert token(api_client, "staff", "pw-staff-1", ip="203.0.113.2").status_code == 200


def test_unknown_and_known_usernames_get_the_same_answers(
    api_client, staff_user, any_cache
):
    known = token(api_client, "staff", "wrong", ip="198.51.100.1")
    unknown = token(api_client, "ghost", "wrong", ip="198.51.100.2")
    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()
    for n in range(9):
        token(api_client, "staff", "wrong", ip=f"198.51.102.{n}")
        token(api_client, "ghost", "wrong", ip=f"198.51.103.{n}")
    locked_known = token(api_client, "staff", "x", ip="203.0.113.3")
    locked_unknown = token(api_client, "ghost", "x", ip="203.0.113.4")
    assert locked_known.status_code == locked_unknown.status_code == 429
    assert locked_known.json() == locked_unknown.json()


def test_the_token_endpoint_takes_json_only(api_client, staff_user):
    form = api_client.post(
        TOKEN_URL, {"username": "staff", "password": "pw-staff-1"}, format="multipart"
    )
    assert form.status_code == 415
    assert token(api_client, "staff", "pw-staff-1").json().keys() == {"token"}


def test_the_schema_documents_json_only_and_the_429(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/auth/token/"]["post"]
    assert list(operation["requestBody"]["content"]) == ["application/json"]
    assert {"200", "400", "429"} <= set(operation["responses"])


def admin_login(client, username: str, password: str, ip: str = "192.0.2.1"):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_the_admin_login_is_limited_per_address(client, staff_user, any_cache):
    codes = [admin_login(client, f"nobody{n}", "wrong").status_code for n in range(10)]
    assert codes == [200] * 10  # the form again, with its error
    refused = admin_login(client, "staff", "pw-staff-1")
    assert refused.status_code == 429 and refused["Retry-After"] == "50"


def test_the_admin_login_locks_the_username_and_shares_it_with_the_api(
    client, api_client, staff_user, any_cache
):
    for n in range(5):
        admin_login(client, "staff", "wrong", ip=f"198.51.100.{n}")
    for n in range(5):
        token(api_client, "staff", "wrong", ip=f"198.51.101.{n}")
    assert (
        admin_login(client, "staff", "pw-staff-1", ip="203.0.113.5").status_code == 429
    )
    assert token(api_client, "staff", "pw-staff-1", ip="203.0.113.6").status_code == 429


def test_a_good_admin_login_signs_in_and_resets_failures(client, staff_user, any_cache):
    for n in range(9):
        admin_login(client, "staff", "wrong", ip=f"198.51.100.{n}")
    response = admin_login(client, "staff", "pw-staff-1", ip="203.0.113.7")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    from django.core.cache import cache

    assert cache.get(login_limits.failures_key("staff")) is None


def test_token_login_then_token_authenticated_write(api_client, staff_user):
    response = api_client.post(
        "/api/auth/token/",
        {"username": "staff", "password": "pw-staff-1"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert (
        api_client.post("/api/signals/", signal_payload(), format="json").status_code
        == 201
    )


@pytest.mark.parametrize(
    "body",
    [
        {"username": "staff", "password": "wrong"},
        {"username": "nobody", "password": "x"},
        {"username": "staff"},
        {},
    ],
)
def test_wrong_credentials_are_400(api_client, staff_user, body):
    assert api_client.post("/api/auth/token/", body, format="json").status_code == 400


def test_a_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert api_client.get("/api/signals/").status_code == 401


def test_unknown_paths_get_a_json_404_without_redirect(api_client):
    response = api_client.get("/api/nothing-here")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert api_client.get("/api/signals").status_code == 404
    assert api_client.get("/api/health/").status_code == 404
