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
