"""The floor's SQL, recorded from the real views: Django set up in the benchmark's own
process runs a view once and keeps the statements it sent, their parameters encoded
as JSON for bench/floor_app.py."""

import json
import os
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from bench.servers import HOST, Harness


def django_setup(harness: Harness) -> bool:
    """Django in this process, against the benchmark's database; whether the journal
    app is installed."""
    os.environ.update(
        harness.server_env(cache=False, app_name="alphaforge-bench"),
        DB_POOL_SIZE="1",
        DB_MAX_OVERFLOW="1",
        DJANGO_SETTINGS_MODULE="alphaforge.settings",
    )
    import django

    django.setup()
    from django.conf import settings

    return "journal" in settings.INSTALLED_APPS


def encode(value: Any) -> Any:
    """Query parameters as JSON (bench/floor_app.py decodes them)."""
    from psycopg.types.json import Jsonb

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return {"t": "decimal", "v": str(value)}
    if isinstance(value, datetime):
        return {"t": "datetime", "v": value.isoformat()}
    if isinstance(value, Jsonb):
        # As the column stores it: the event log's payloads hold Decimals, which
        # its encoder (DRF's) writes as numbers.
        from rest_framework.utils.encoders import JSONEncoder

        return {"t": "jsonb", "v": json.loads(json.dumps(value.obj, cls=JSONEncoder))}
    if isinstance(value, list | tuple):
        return {"t": "list", "v": [encode(item) for item in value]}
    raise TypeError(f"cannot record a {type(value).__name__} parameter")


def client_call(
    client: Any, method: str, path: str, body: str | None, extra: dict
) -> Any:
    if method == "POST":
        return client.post(path, data=body, content_type="application/json", **extra)
    return client.get(path, **extra)


def capture(
    path: str,
    *,
    method: str = "GET",
    body: str | None = None,
    token: str | None = None,
    vary: dict[str, Any] | None = None,
    writes: bool = False,
) -> dict[str, Any]:
    """Run the real view once in this process and record the SQL it sends."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, transaction
    from django.test import Client

    statements: list[tuple[str, Any, bool]] = []

    def record(execute: Callable, sql: str, params: Any, many: bool, context: Any):
        statements.append((sql, params, many))
        return execute(sql, params, many, context)

    # A request must not close the connection inside the rolled-back transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    client = Client(HTTP_HOST=HOST)
    extra = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    try:
        with connection.execute_wrapper(record):
            if writes:
                with transaction.atomic():
                    response = client_call(client, method, path, body, extra)
                    transaction.set_rollback(True)
            else:
                response = client_call(client, method, path, body, extra)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    if response.status_code not in (200, 201):
        raise RuntimeError(
            f"capture of {method} {path}: {response.status_code} "
            f"{response.content[:300]!r}"
        )
    return {"queries": _queries(statements, vary), "writes": writes}


def _queries(
    statements: list[tuple[str, Any, bool]], vary: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The statements as the floor replays them; `vary` names the parameters that
    the floor takes from its query string."""
    queries = []
    for sql, params, many in statements:
        if many:
            raise RuntimeError(f"executemany is not replayed by the floor: {sql}")
        if isinstance(params, dict):  # named parameters (%(name)s), kept by name
            queries.append(
                {"sql": sql, "named": {k: encode(v) for k, v in params.items()}}
            )
            continue
        query: dict[str, Any] = {
            "sql": sql,
            "params": None if params is None else [encode(p) for p in params],
        }
        if vary and params is not None:
            query["vary"] = {
                str(index): name
                for index, value in enumerate(params)
                for name, wanted in vary.items()
                if type(value) is type(wanted) and value == wanted
            }
        queries.append(query)
    return queries
