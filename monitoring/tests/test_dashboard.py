"""Every metric the Grafana dashboard queries is one /metrics really exports."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db
DASHBOARD = (
    Path(__file__).resolve().parents[2]
    / "docker/monitoring/grafana/dashboards/alphaforge.json"
)
# A selector: a name, optional {label matchers}, then a [range] or the matchers.
SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{[^}]*\}\s*\[|\{|\[)")
# django-prometheus counts queries only through its wrapped backends, which the
# settings use for DATABASE_URL (PostgreSQL) and not for the test SQLite database.
DATABASE_METRICS = ("django_db_",)


def dashboard_metrics() -> set[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    exprs = [target["expr"] for panel in panels for target in panel["targets"]]
    return {name for expr in exprs for name in SELECTOR.findall(expr)}


def exported(text: str) -> set[str]:
    return {
        sample.name
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_dashboard_queries_are_parsed():
    names = dashboard_metrics()
    assert "django_http_requests_total_by_view_transport_method_total" in names
    assert "alphaforge_request_duration_seconds_bucket" in names
    assert "alphaforge_response_cache_total" in names
    assert not names & {"sum", "rate", "by", "histogram_quantile"}


def test_every_metric_the_dashboard_uses_is_exported(api_client, staff_client):
    for path in ("/api/signals/", "/api/signals/", "/api/signals/stats/", "/nothing"):
        api_client.get(path)
    text = staff_client.get("/metrics").content.decode()
    wanted = dashboard_metrics()
    wrapped = settings.DATABASES["default"]["ENGINE"].startswith("django_prometheus")
    if not wrapped:
        wanted = {name for name in wanted if not name.startswith(DATABASE_METRICS)}
    else:
        assert any(name.startswith(DATABASE_METRICS) for name in wanted)
    missing = wanted - exported(text)
    assert not missing, f"the dashboard queries metrics /metrics lacks: {missing}"
