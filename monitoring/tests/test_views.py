import pytest

from conftest import UNREACHABLE_CACHES

pytestmark = pytest.mark.django_db


def test_health_is_ok(api_client):
    response = api_client.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_when_database_and_cache_answer(api_client):
    response = api_client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_ready_names_the_cache_when_it_is_down(api_client, settings):
    settings.CACHES = UNREACHABLE_CACHES
    response = api_client.get("/api/ready")
    assert response.status_code == 503
    assert response.json()["cache"] == "unavailable"
    assert "cache" in response.json()["status"]


def test_every_response_carries_x_response_time(api_client):
    for path in ("/api/health", "/api/signals/", "/api/nothing"):
        value = api_client.get(path)["X-Response-Time"]
        assert value.endswith("ms") and float(value[:-2]) >= 0


def test_metrics_need_staff_or_the_token(api_client, user_client, settings):
    settings.METRICS_TOKEN = "s3cret"
    for path in ("/api/metrics", "/metrics"):
        assert api_client.get(path).status_code in (401, 403)
        assert user_client.get(path).status_code == 403
        wrong = api_client.get(path, HTTP_AUTHORIZATION="Bearer nope")
        assert wrong.status_code in (401, 403)
        assert (
            api_client.get(path, HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200
        )


def test_no_token_configured_means_staff_only(api_client, staff_client, settings):
    settings.METRICS_TOKEN = ""
    assert api_client.get("/api/metrics", HTTP_AUTHORIZATION="Bearer ").status_code in (
        401,
        403,
    )
    assert staff_client.get("/api/metrics").status_code == 200


def test_metrics_json_counts_requests_per_route_and_cache_results(staff_client):
    before = staff_client.get("/api/metrics").json()
    key = "GET /api/signals/stats/"
    seen = before["performance"].get(key, {}).get("total_requests", 0)
    hits = before["cache"]["hits"]
    for _ in range(3):
        staff_client.get("/api/signals/stats/")
    body = staff_client.get("/api/metrics").json()
    assert set(body) == {"system", "cache", "performance"}
    route = body["performance"][key]
    assert route["total_requests"] == seen + 3
    assert 0 <= route["avg_duration_ms"] and 0 <= route["p95_duration_ms"]
    assert body["cache"]["hits"] == hits + 2
    assert 0 < body["cache"]["hit_rate"] <= 1
    assert body["system"]["process_rss_bytes"] > 0


def test_prometheus_text_has_request_database_and_cache_metrics(staff_client):
    staff_client.get("/api/signals/")
    text = staff_client.get("/metrics").content.decode()
    assert "alphaforge_request_duration_seconds_bucket" in text
    assert "alphaforge_response_cache_total" in text


def test_slow_requests_are_logged(api_client, settings, caplog):
    settings.SLOW_REQUEST_MS = -1
    with caplog.at_level("WARNING", logger="alphaforge.requests"):
        api_client.get("/api/health")
    assert "slow request: GET /api/health 200" in caplog.text
