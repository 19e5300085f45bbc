import pytest

from signals.tests.factories import signal_payload

pytestmark = pytest.mark.django_db


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
