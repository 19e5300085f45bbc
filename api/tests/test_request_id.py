"""X-Request-ID on every answer, on the request's log lines, and in JSON logs."""

import json
import logging

import pytest

from core.logs import RequestContextFilter, json_formatter
from core.request_context import request_id

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/api/signals/", "/api/health", "/api/journal/", "/api/nowhere/"]
)
def test_every_answer_echoes_a_sane_client_id(api_client, path):
    response = api_client.get(path, HTTP_X_REQUEST_ID="client-1.2:3_x")
    assert response["X-Request-ID"] == "client-1.2:3_x"


@pytest.mark.parametrize("sent", [None, "", "x" * 129, "bad id", "naïve", "a/b"])
def test_a_missing_or_malformed_id_is_replaced_by_a_new_one(api_client, sent):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}
    first = api_client.get("/api/health", **headers)["X-Request-ID"]
    second = api_client.get("/api/health", **headers)["X-Request-ID"]
    assert first != sent and len(first) == 32 and int(first, 16) >= 0
    assert first != second


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.addFilter(RequestContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def lines():  # type: ignore[no-untyped-def]
    handler = Lines()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def test_the_requests_log_lines_carry_its_id_method_path_and_user(
    user_client, user, lines, settings
):
    settings.REQUEST_LOG = True
    response = user_client.get("/api/journal/", HTTP_X_REQUEST_ID="trace-me")
    (access,) = [r for r in lines.records if r.name == "alphaforge.access"]
    assert response.status_code == 200
    assert access.request_id == "trace-me"
    assert (access.method, access.path, access.status) == ("GET", "/api/journal/", 200)
    assert access.user_id == user.pk and access.duration_ms >= 0


def test_a_bad_request_is_logged_once_with_its_id(user_client, lines):
    user_client.post(
        "/api/journal/", {"pair": "x"}, format="json", HTTP_X_REQUEST_ID="bad-1"
    )
    warnings = [r for r in lines.records if r.getMessage().startswith("Bad Request")]
    assert len(warnings) == 1 and warnings[0].request_id == "bad-1"
    # Django's loggers hand their lines to the root's one handler: never printed twice.
    assert logging.getLogger("django").handlers == []


def test_outside_a_request_the_id_is_a_dash_or_the_tasks_own():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    RequestContextFilter().filter(record)
    assert record.request_id == "-"
    token = request_id.set("from-a-task")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        RequestContextFilter().filter(record)
    finally:
        request_id.reset(token)
    assert record.request_id == "from-a-task"


def test_json_lines_parse_and_hold_the_contract_fields(user_client, lines, settings):
    settings.REQUEST_LOG = True
    user_client.get("/api/journal/", HTTP_X_REQUEST_ID="json-1")
    (access,) = [r for r in lines.records if r.name == "alphaforge.access"]
    line = json.loads(json_formatter().format(access))
    assert line["request_id"] == "json-1"
    assert line["level"] == "info" and line["logger"] == "alphaforge.access"
    assert line["message"].startswith("GET /api/journal/ 200")
    assert {"time", "method", "path", "status", "duration_ms", "user_id"} <= set(line)
