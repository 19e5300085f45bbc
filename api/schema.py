"""OpenAPI post-processing: the error answers every operation can give, and the
examples of each operation's body and answer (which the apps register)."""

from typing import Any

ERROR = {
    "type": "object",
    "description": "A detail message, or messages keyed by the offending field "
    "or parameter.",
    "additionalProperties": True,
}
COMMON_ERRORS = {
    "400": "Malformed input; the body names the field or parameter.",
    "401": "Authentication required or credentials invalid.",
    "403": "Authenticated but not allowed.",
    "404": "No such object, or a page past the last.",
    "413": "Request body larger than MAX_BODY_BYTES.",
    "415": "Unsupported or malformed body media type; send application/json.",
    "429": "Rate limited; Retry-After gives the seconds to wait (RateLimit-Policy "
    "and RateLimit headers state the quota on every counted answer).",
    "503": "Database unavailable; retry shortly.",
}


# Operations anyone may call (method, path prefix): their security requirement includes
# "no credentials". Each app registers its own at start-up (AppConfig.ready).
PUBLIC: list[tuple[str, str]] = [("post", "/api/auth/token/"), ("get", "/api/schema/")]


# Swagger's groups: (path prefix, tag, description), registered by each app at start-up
# like its public operations; the longest matching prefix names an operation's tag.
TAGS: list[tuple[str, str, str]] = [("/api/auth/", "auth", "Tokens for the API.")]


def register_tag(prefix: str, name: str, description: str) -> None:
    if all(prefix != known for known, _, _ in TAGS):
        TAGS.append((prefix, name, description))


def add_tags(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Group each operation under its app's tag, and describe the tags."""
    by_length = sorted(TAGS, key=lambda tag: -len(tag[0]))
    used: set[str] = set()
    for route, path in result.get("paths", {}).items():
        tag = next(
            (name for prefix, name, _ in by_length if route.startswith(prefix)), None
        )
        if tag is None:
            continue
        for operation in path.values():
            operation["tags"] = [tag]
        used.add(tag)
    described: dict[str, str] = {}
    for _, name, description in TAGS:
        described[name] = described.get(name) or description
    result["tags"] = [
        {"name": name, "description": described[name]} for name in sorted(used)
    ]
    return result


def add_links(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """OpenAPI links from each create (a POST answering 201 or 202 with an `id`) to the
    operations on the object it made (`<path>{id}/`), so that clients and stateful
    testing follow them."""
    paths = result.get("paths", {})
    for route, path in paths.items():
        create = path.get("post")
        target = paths.get(route + "{id}/")
        if create is None or target is None:
            continue
        for code in ("201", "202"):
            answer = create.get("responses", {}).get(code)
            if answer is None or "content" not in answer:
                continue
            answer["links"] = {
                operation["operationId"]: {
                    "operationId": operation["operationId"],
                    "parameters": {"id": "$response.body#/id"},
                }
                for method, operation in target.items()
                if method in ("get", "patch", "put", "delete")
            }
    return result


def register_public_operations(*operations: tuple[str, str]) -> None:
    PUBLIC.extend(operation for operation in operations if operation not in PUBLIC)


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retried POST safe: the same key and the same body from the same "
        "caller within IDEMPOTENCY_TTL_SECONDS answers the first request's status "
        "and body (with `Idempotent-Replayed: true`) without doing the work again."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[\\x20-\\x7E]+$",
    },
}
IDEMPOTENCY_ERRORS = {
    "409": "A request with this Idempotency-Key is still being processed; "
    "retry after Retry-After.",
    "422": "This Idempotency-Key was used with a different request.",
}


# The 400 of a refused Idempotency-Key (api/idempotency.py), before the view runs.
KEY_ERROR = {
    "type": "object",
    "description": "An Idempotency-Key header that is not 1 to 255 printable ASCII "
    "characters.",
    "required": ["Idempotency-Key"],
    "properties": {"Idempotency-Key": {"type": "array", "items": {"type": "string"}}},
}


def _allow_key_error(answer: dict[str, Any]) -> None:
    """A POST's own 400 body (BulkError, say) may also be the Idempotency-Key
    refusal; the shared Error already allows it."""
    media = answer.get("content", {}).get("application/json", {})
    schema = media.get("schema")
    if schema is None or schema == {"$ref": "#/components/schemas/Error"}:
        return
    if {"$ref": "#/components/schemas/IdempotencyKeyError"} in schema.get("anyOf", []):
        return
    media["schema"] = {
        "anyOf": [schema, {"$ref": "#/components/schemas/IdempotencyKeyError"}]
    }


NOT_MODIFIED = (
    "Not modified: the If-None-Match header names the current answer's ETag "
    "(every GET answer carries one); no body."
)


# A path id routed by `lookup_value_regex = r"\d+"`: drf-spectacular documents it as a
# string of that pattern, which generated clients type as `str`; it is an integer.
DIGITS_ID = {"type": "string", "pattern": "^\\d+$"}
INTEGER_ID = {"type": "integer", "minimum": 0}


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Document the shared error answers, and which operations need no credentials;
    type digit-only path ids as integers."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["IdempotencyKeyError"] = KEY_ERROR
    reference = {"$ref": "#/components/schemas/Error"}
    for route, path in result.get("paths", {}).items():
        for method, operation in path.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["schema"] == DIGITS_ID:
                    parameter["schema"] = dict(INTEGER_ID)
            public = any(
                method == m and route.startswith(prefix) for m, prefix in PUBLIC
            )
            if public and {} not in operation.setdefault("security", []):
                operation["security"].append({})
            responses = operation.setdefault("responses", {})
            if method == "get" and "200" in responses:
                responses.setdefault("304", {"description": NOT_MODIFIED})
            errors = dict(COMMON_ERRORS)
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                errors.update(IDEMPOTENCY_ERRORS)
                _allow_key_error(responses.get("400", {}))
            for code, description in errors.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result


# operationId -> {"request": body, "responses": {"200": answer, …}}. Each app registers
# the examples of its own operations at start-up (AppConfig.ready), as it registers
# its public prefix: this layer imports no app.
EXAMPLES: dict[str, dict[str, Any]] = {}


def register_examples(examples: dict[str, dict[str, Any]]) -> None:
    EXAMPLES.update(examples)


register_examples(
    {
        "api_auth_token_create": {
            "request": {"username": "demo", "password": "demo-password"},
            "responses": {"200": {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}},
        }
    }
)


def add_examples(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Put the registered example of each operation on its body and answers."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            example = EXAMPLES.get(operation.get("operationId", ""))
            if example is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                if "request" in example:
                    media["example"] = example["request"]
            for code, answer in example.get("responses", {}).items():
                content = operation["responses"].get(code, {}).get("content", {})
                for media in content.values():
                    media["example"] = answer
    return result


def page_example(results: list, *, count: int | None = None) -> dict[str, Any]:
    """A page-number page as PagePagination answers it, for the apps' examples."""
    return {
        "count": len(results) if count is None else count,
        "page": 1,
        "page_size": 50,
        "total_pages": 1,
        "has_next": False,
        "has_previous": False,
        "next": None,
        "previous": None,
        "results": results,
    }
