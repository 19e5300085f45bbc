"""Schema fuzzing: schemathesis drives every operation of our own OpenAPI schema.

Anonymous, ordinary-user and staff callers; every answer must be a non-5xx whose
status, headers and body the schema documents.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import positive_data_acceptance

application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """As Django's test client does: requests must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["anonymous", "user", "staff"])
def caller(request, django_user_model, settings):  # type: ignore[no-untyped-def]
    settings.RATE_LIMIT_PER_MINUTE = 10**9
    settings.RATE_LIMIT_USER_PER_MINUTE = 10**9
    # The fuzzer's client does not decode br/gzip; compression has its own tests.
    settings.COMPRESS_IN_DJANGO = False
    if request.param == "anonymous":
        return {}
    user = django_user_model.objects.create_user(
        username=request.param, password="pw", is_staff=request.param == "staff"
    )
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_every_answer_matches_the_schema(case, caller):  # type: ignore[no-untyped-def]
    # Every check but positive_data_acceptance: rules such as "stop on the loss side
    # of entry", unique keys, valid credentials or a genuine cursor cannot be put in
    # OpenAPI, so a schema-valid request may rightly get a documented 400.
    case.call_and_validate(headers=caller, excluded_checks=[positive_data_acceptance])
