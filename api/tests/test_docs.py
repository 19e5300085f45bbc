"""docs/api.md, the repository's own API guide, against the OpenAPI schema, and the
README's links, which stay inside the repository."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "api.md"
# Paths of the guide that are not OpenAPI operations: the schema itself, its
# browsable page, the admin, and the server-sent event stream (served by the ASGI
# application, outside the REST API; the WebSocket is /ws/events/).
PAGES = {"/api/schema/", "/api/docs/", "/admin/", "/api/events/stream"}
# A path in the text, alone or in a URL: /api/…, /metrics or /admin/, up to a quote,
# space, query or backtick.
PATH = re.compile(r"(/(?:api/[\w{}./-]*|metrics|admin/))")


def schema_paths(api_client) -> set[str]:  # type: ignore[no-untyped-def]
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    return set(response.json()["paths"])


def as_pattern(template: str) -> re.Pattern:
    """`/api/signals/{id}/` matches itself and `/api/signals/4182/`."""
    parts = re.split(r"(\{\w+\})", template)
    body = "".join(
        r"(?:\{\w+\}|\d+)" if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(body + r"\Z")


def guide_paths() -> set[str]:
    return {path.rstrip(".") for path in PATH.findall(GUIDE.read_text())}


def test_every_schema_path_is_in_the_guide(api_client):
    text = GUIDE.read_text()
    missing = [path for path in schema_paths(api_client) if f"{path}" not in text]
    assert not missing, f"docs/api.md does not mention {missing}"


def test_every_path_of_the_guide_is_in_the_schema(api_client):
    patterns = [as_pattern(path) for path in schema_paths(api_client)]
    found = guide_paths()
    assert len(found) > 20
    unknown = sorted(
        path
        for path in found - PAGES
        if not any(pattern.match(path) for pattern in patterns)
    )
    assert not unknown, f"docs/api.md names paths the API does not have: {unknown}"


def test_readme_and_docs_point_only_inside_the_repository():
    for path in (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))):
        text = path.read_text()
        assert "shared/" not in text, path.name
        for target in re.findall(r"\]\(([^)#]+)", text):
            if not target.startswith(("http://", "https://")):
                assert (path.parent / target).exists(), (path.name, target)
    assert "docs/api.md" in (ROOT / "README.md").read_text()
