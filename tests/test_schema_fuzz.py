"""Schema fuzzing: schemathesis drives every operation of our own OpenAPI schema.

Every phase (examples, coverage, fuzzing and, in its own test, stateful sequences
such as create-then-PATCH), as anonymous, ordinary-user and staff callers; every
answer must be a non-5xx whose status, headers and body the schema documents.
FUZZ_EXAMPLES sets the fuzzing phase's examples an operation (README: how many
found what).
"""

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

application = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing", "stateful"])
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
# Every check but positive_data_acceptance: rules such as "stop on the loss side of
# entry", unique keys, valid credentials or a genuine cursor cannot be put in
# OpenAPI, so a schema-valid request may rightly get a documented 400.
EXCLUDED = [positive_data_acceptance]


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
    settings.LOGIN_RATE_LIMIT_PER_MINUTE = 10**9
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
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_every_answer_matches_the_schema(case, caller):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=caller, excluded_checks=EXCLUDED)


@pytest.mark.django_db
def test_sequences_of_calls_give_no_server_errors(caller):  # type: ignore[no-untyped-def]
    """Stateful phase: responses feed later requests (a created signal is PATCHed)."""

    class Calls(schema.as_state_machine()):  # type: ignore[misc]
        # Each sequence starts from the same database and cache: hypothesis replays
        # sequences while it shrinks, and rows or cached answers left by an earlier
        # one would make the replay take other steps (FlakyStrategyDefinition).
        def setup(self) -> None:
            self.snapshot = transaction.atomic()
            self.snapshot.__enter__()

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.snapshot.__exit__(None, None, None)
            cache.clear()

        def get_call_kwargs(self, case):  # type: ignore[no-untyped-def]
            return {"headers": caller}

        def validate_response(self, response, case, **kwargs):  # type: ignore[no-untyped-def]
            # ignored_auth replays the step with a broken token, but the caller's own
            # header (above) replaces it: that replay says nothing here. The
            # stateless test runs the check.
            case.validate_response(response, excluded_checks=[*EXCLUDED, ignored_auth])

    Calls.run(
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


# Operations whose every rule the schema states (bounds, patterns, enums): a request
# the schema calls valid must be accepted, so positive_data_acceptance judges them.
JUDGED = schema.include(
    path_regex=r"^/api/(events/|webhooks/|health|ready)$", method="GET"
)


@pytest.mark.django_db
@JUDGED.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_requests_the_schema_calls_valid_are_accepted(case, caller):  # type: ignore[no-untyped-def]
    case.call_and_validate(headers=caller)
