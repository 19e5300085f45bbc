"""Shared fixtures: users, API clients, a real Redis, test-only settings."""

import importlib.resources
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """PostgreSQL-only tests are deselected on SQLite; the suite's PG pass runs them."""
    if connection.vendor == "postgresql":
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("postgresql") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str:
    redis = os.environ.get("TEST_REDIS_URL") or "none"
    return f"database: {connection.vendor}; redis: {redis}"


@pytest.fixture(autouse=True)
def _test_settings(settings) -> None:  # type: ignore[no-untyped-def]
    """Fast hashing and a private in-memory cache per test (Redis tests opt in)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from api import cache_breaker, caching

    cache_breaker.cache_reset()  # a cache failure in one test opens it for 5 s
    caching._unbumped.clear()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid.uuid4().hex,
        }
    }


def required_redis_url() -> str:
    """The test Redis; a skip without one, a failure when CI=true."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if IN_CI:
            pytest.fail("CI=true but TEST_REDIS_URL is not set: Redis tests must run")
        pytest.skip("no Redis server: set TEST_REDIS_URL (the test command does)")
    return url


@pytest.fixture
def redis_url() -> str:
    return required_redis_url()


@pytest.fixture
def redis_cache(settings, redis_url: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Point the default cache at the real Redis, under a prefix of this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    yield
    from django.core.cache import cache

    cache.delete_pattern("*")


@pytest.fixture
def local_cache(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The embedded default's SQLite cache, in a file of this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "core.local_cache.LocalCache",
            "LOCATION": tmp_path / "cache.sqlite3",
        }
    }


@pytest.fixture(params=["locmem", "redis", "local"])
def any_cache(request):  # type: ignore[no-untyped-def]
    """The test runs three times: on the private in-memory cache, on a real Redis
    and on the embedded default's SQLite store."""
    if request.param != "locmem":
        request.getfixturevalue(f"{request.param}_cache")


# A real Redis client pointed at a closed loopback port: a cache that is down.
UNREACHABLE_CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def market_data_path() -> Path:
    """EUR/USD hourly bars (5,000, 2017-04-19 to 2018-02-07) from the test-only
    `backtesting` package (requirements-dev.txt); a skip without it, a failure when
    CI=true."""
    try:
        resource = importlib.resources.files("backtesting") / "test" / "EURUSD.csv"
    except ModuleNotFoundError:
        resource = None
    if resource is None or not resource.is_file():
        if IN_CI:
            pytest.fail("CI=true but backtesting's test/EURUSD.csv is missing")
        pytest.skip("market data: pip install -r requirements-dev.txt (backtesting)")
    return Path(str(resource))  # an installed package is a directory on disk


@pytest.fixture
def market_data() -> Path:
    return market_data_path()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        username="alice", password="pw-alice-1"
    )


@pytest.fixture
def other_user(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(username="bob", password="pw-bob-1")


@pytest.fixture
def staff_user(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(
        username="staff", password="pw-staff-1", is_staff=True
    )


@pytest.fixture
def user_client(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff_client(staff_user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(staff_user)
    return client
