"""The floor of the HTTP benchmark: what a request costs with no framework at all.

A bare WSGI app (run by the same server, same worker count as the real one) that runs
the SQL Django ran for a scenario through a plain psycopg_pool ConnectionPool and
serialises the rows with orjson; for cached scenarios it serves the same bytes from
Redis. bench/run.py records each scenario's SQL (`FLOOR_SPEC`, a JSON file) by
running the real view once (bench/capture.py), so the floor's queries are the app's
queries.

    GET  /floor/<scenario>?<the scenario's varying parameters>
    POST /floor/<scenario>           the body is parsed (orjson) like the app does
    GET  /floor/cached?u=<app path>  the bytes bench/run.py stored at floor:<app path>

Writes (bulk create) run inside a transaction that is rolled back, so the same
statements can be replayed any number of times.
"""

import os
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import orjson
import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

_pool: ConnectionPool | None = None
_redis: Any = None
_spec: dict[str, Any] | None = None


def decode_param(value: Any) -> Any:
    """The inverse of bench/capture.py's encoding of captured query parameters."""
    if isinstance(value, dict):
        kind, raw = value["t"], value["v"]
        if kind == "decimal":
            return Decimal(raw)
        if kind == "datetime":
            return datetime.fromisoformat(raw)
        if kind == "jsonb":
            return Jsonb(raw)
        if kind == "list":
            return [decode_param(item) for item in raw]
        raise ValueError(f"unknown parameter kind {kind}")
    return value


def _load_spec() -> dict[str, Any]:
    global _spec
    if _spec is None:
        with open(os.environ["FLOOR_SPEC"], "rb") as handle:
            raw = orjson.loads(handle.read())
        for scenario in raw.values():
            for query in scenario["queries"]:
                if "named" in query:
                    query["params"] = {
                        k: decode_param(v) for k, v in query.pop("named").items()
                    }
                elif query["params"] is not None:
                    query["params"] = [decode_param(p) for p in query["params"]]
        _spec = raw
    return _spec


def _get_pool() -> ConnectionPool:
    """One pool per worker process, opened on its first request (after the fork)."""
    global _pool
    if _pool is None:
        size = int(os.environ.get("DB_POOL_SIZE", 5))
        overflow = int(os.environ.get("DB_MAX_OVERFLOW", 5))
        _pool = ConnectionPool(
            os.environ["DATABASE_URL"],
            min_size=size,
            max_size=size + overflow,
            # Like Django: autocommit, and parameters bound on the client side.
            kwargs={"autocommit": True, "cursor_factory": psycopg.ClientCursor},
            open=True,
        )
    return _pool


def _get_redis() -> Any:
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _redis


def _params(query: dict[str, Any], args: dict[str, list[str]]) -> Any:
    params = query["params"]
    if not query.get("vary"):
        return params
    params = list(params)
    for index, name in query["vary"].items():
        value = args[name][0]
        params[int(index)] = (
            int(value) if isinstance(params[int(index)], int) else value
        )
    return params


def _run(scenario: dict[str, Any], args: dict[str, list[str]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with _get_pool().connection() as conn:
        writes = scenario.get("writes", False)
        if writes:
            conn.execute("BEGIN")
        try:
            with conn.cursor() as cursor:
                for number, query in enumerate(scenario["queries"]):
                    cursor.execute(query["sql"], _params(query, args))
                    if cursor.description is not None:
                        names = [column.name for column in cursor.description]
                        results[f"q{number}"] = [
                            dict(zip(names, row, strict=True))
                            for row in cursor.fetchall()
                        ]
        finally:
            if writes:
                conn.execute("ROLLBACK")
    return results


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def application(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    path = environ.get("PATH_INFO", "")
    args = parse_qs(environ.get("QUERY_STRING", ""))
    name = path.removeprefix("/floor/").strip("/")
    if name == "cached":
        body = _get_redis().get(f"floor:{args['u'][0]}")
        status = "200 OK" if body is not None else "404 Not Found"
        body = body or b"{}"
    else:
        scenario = _load_spec().get(name)
        if scenario is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such scenario"]
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            orjson.loads(environ["wsgi.input"].read(length))
        body = orjson.dumps(_run(scenario, args), default=_number)
        status = "200 OK"
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
