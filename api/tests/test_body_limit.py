import json
import logging

import pytest

from signals.tests.factories import signal_payload

pytestmark = pytest.mark.django_db


def test_a_body_over_the_limit_is_413_before_it_is_read(staff_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps(
        [signal_payload(timestamp=f"2026-01-0{d}T00:00:00Z") for d in range(1, 10)] * 20
    )
    response = staff_client.generic(
        "POST", "/api/signals/bulk/", body, content_type="application/json"
    )
    assert response.status_code == 413 and "too large" in response.json()["detail"]


def test_malformed_json_is_a_400(staff_client):
    response = staff_client.generic(
        "POST", "/api/signals/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400 and "detail" in response.json()


def test_passwords_and_tokens_never_reach_the_logs(api_client, staff_user, caplog):
    with caplog.at_level(logging.DEBUG):
        api_client.post(
            "/api/auth/token/",
            {"username": "staff", "password": "wrong-pass-77"},
            format="json",
        )
        token = api_client.post(
            "/api/auth/token/",
            {"username": "staff", "password": "pw-staff-1"},
            format="json",
        ).json()["token"]
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        api_client.post("/api/signals/", {"pair": "bad"}, format="json")
        api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token-123")
        api_client.get("/api/signals/")
    logged = caplog.text
    for secret in ("wrong-pass-77", "pw-staff-1", token, "not-a-real-token-123"):
        assert secret not in logged
