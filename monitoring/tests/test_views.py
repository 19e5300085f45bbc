import pytest

pytestmark = pytest.mark.django_db


def test_health_is_ok(api_client):
    response = api_client.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_when_database_and_cache_answer(api_client):
    response = api_client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_ready_names_the_cache_when_it_is_down(api_client, settings):
    # A real Redis client pointed at a closed loopback port: the cache is down.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    response = api_client.get("/api/ready")
    assert response.status_code == 503
    assert response.json()["cache"] == "unavailable"
    assert "cache" in response.json()["status"]
