import re
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3_without_warnings():
    # --fail-on-warn turns any guess drf-spectacular had to make into a failure.
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--format",
        "openapi-json",
        stdout=StringIO(),
    )


def test_schema_documents_the_contract_endpoints(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/signals/",
        "/api/signals/{id}/",
        "/api/signals/feed/",
        "/api/signals/stats/",
        "/api/signals/bulk/",
        "/api/auth/token/",
        "/api/health",
        "/api/ready",
    ):
        assert path in paths, path
    stats = paths["/api/signals/stats/"]["get"]
    assert {p["name"] for p in stats["parameters"]} >= {"pair", "since", "until"}
    assert "ordering" not in {p["name"] for p in stats["parameters"]}
    feed = {p["name"] for p in paths["/api/signals/feed/"]["get"]["parameters"]}
    assert "cursor" in feed and "page" not in feed
    components = schema["components"]["schemas"]
    assert set(components["SignalStats"]["properties"]) == {
        "total",
        "by_status",
        "by_outcome",
        "win_rate",
        "avg_confidence",
        "total_pips",
        "by_pair",
        "calibration",
    }
    page = paths["/api/signals/"]["get"]["responses"]["200"]["content"]
    page_schema = page["application/json"]["schema"]
    ref = page_schema.get("$ref", "").rsplit("/", 1)[-1]
    props = components[ref]["properties"] if ref else page_schema["properties"]
    assert {
        "count",
        "page",
        "page_size",
        "total_pages",
        "has_next",
        "has_previous",
        "next",
        "previous",
        "results",
    } <= set(props)
    bulk = paths["/api/signals/bulk/"]
    assert {"post", "patch"} <= set(bulk)
    assert "400" in bulk["post"]["responses"]


def test_docs_page_works_offline(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(not a.startswith("http") for a in assets), assets
    for asset in assets:
        if asset.endswith((".js", ".css")):
            assert client.get(asset).status_code == 200, asset


def openapi_schema(api_client) -> dict:  # type: ignore[no-untyped-def]
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def json_schema(node):  # type: ignore[no-untyped-def]
    """OpenAPI 3.0's `nullable` as JSON Schema's null type, everywhere."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def operations(schema: dict):  # type: ignore[no-untyped-def]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_has_request_and_response_examples(api_client):
    missing = []
    for name, operation in operations(openapi_schema(api_client)):
        for media, content in (
            operation.get("requestBody", {}).get("content", {}).items()
        ):
            if "example" not in content:
                missing.append(f"{name} request {media}")
        answers = [
            (code, media, content)
            for code, response in operation["responses"].items()
            if code.startswith("2")
            for media, content in response.get("content", {}).items()
        ]
        # A 204 (DELETE) has no body to show; every other success has one.
        assert answers or "204" in operation["responses"], name
        missing += [
            f"{name} {code} {media}"
            for code, media, content in answers
            if "example" not in content
        ]
    assert not missing, missing


def test_every_example_matches_its_schema(api_client):
    # OpenAPI 3.0's schema objects follow JSON Schema draft 4 (boolean
    # exclusiveMaximum), once `nullable` is rewritten.
    from jsonschema import Draft4Validator

    schema = openapi_schema(api_client)
    components = json_schema(schema["components"])
    checked = 0
    for name, operation in operations(schema):
        contents = [
            ("request", operation.get("requestBody", {}).get("content", {})),
            *(
                (code, response.get("content", {}))
                for code, response in operation["responses"].items()
            ),
        ]
        for where, content in contents:
            for media, body in content.items():
                if "example" not in body or "schema" not in body:
                    continue
                root = {**json_schema(body["schema"]), "components": components}
                errors = list(Draft4Validator(root).iter_errors(body["example"]))
                assert not errors, (name, where, media, errors[0].message)
                checked += 1
    assert checked >= 30


def test_operations_are_grouped_by_their_apps_tags(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    tags = {
        route: {tag for operation in path.values() for tag in operation["tags"]}
        for route, path in schema["paths"].items()
    }
    assert tags["/api/signals/"] == {"signals"}
    assert tags["/api/journal/stats/"] == {"journal"}
    assert tags["/api/events/"] == {"events"}
    assert tags["/api/webhooks/"] == {"webhooks"}
    assert tags["/api/backtests/"] == {"backtests"}
    assert tags["/api/auth/token/"] == {"auth"}
    assert tags["/api/health"] == {"monitoring"}
    assert not [route for route, names in tags.items() if names == {"api"}]
    assert [tag["name"] for tag in schema["tags"]] == sorted(
        {name for names in tags.values() for name in names}
    )


def test_path_ids_are_integers(api_client):
    # drf-spectacular documents `lookup_value_regex = r"\d+"` as a string of that
    # pattern; generated clients would then take a signal's id as `str`.
    schema = api_client.get("/api/schema/?format=json").json()
    ids = [
        (route, parameter["name"], parameter["schema"])
        for route, path in schema["paths"].items()
        for operation in path.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    ]
    assert ("/api/signals/{id}/", "id", {"type": "integer", "minimum": 0}) in ids
    assert [e for e in ids if e[1].endswith("id") and e[2]["type"] != "integer"] == []
    # A strategy is named, not numbered.
    assert ("/api/strategies/{name}/", "name", {"type": "string"}) in ids


def test_a_refused_idempotency_key_fits_every_posts_400(api_client):
    # The 400 of an invalid Idempotency-Key comes before the view: a bulk write's
    # own 400 (BulkError) must allow it too.
    schema = api_client.get("/api/schema/?format=json").json()
    bulk = schema["paths"]["/api/signals/bulk/"]["post"]["responses"]["400"]
    assert bulk["content"]["application/json"]["schema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/BulkError"},
            {"$ref": "#/components/schemas/IdempotencyKeyError"},
        ]
    }
    refusal = schema["components"]["schemas"]["IdempotencyKeyError"]
    assert refusal["required"] == ["Idempotency-Key"]
