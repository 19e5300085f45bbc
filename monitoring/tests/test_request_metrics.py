"""django-prometheus' request metrics next to ours, fast-path hits included."""

import pytest

from api.tests.test_fast_path import Wsgi
from monitoring.metrics import registry
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db
BY_VIEW = "django_http_requests_total_by_view_transport_method_total"
BY_STATUS = "django_http_responses_total_by_status_view_method_total"
LATENCY = "django_http_requests_latency_seconds_by_view_method_count"


def value(name: str, **labels: str) -> float:
    """The sum of a sample over every series whose labels include `labels`."""
    return sum(
        sample.value
        for family in registry().collect()
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_prometheus_text_has_django_request_metrics_and_ours(staff_client):
    staff_client.get("/api/signals/")
    text = staff_client.get("/metrics").content.decode()
    for name in (
        BY_VIEW,
        BY_STATUS,
        "django_http_requests_latency_seconds_by_view_method_bucket",
        "django_http_requests_before_middlewares_total",
        "alphaforge_request_duration_seconds_bucket",
    ):
        assert name in text, name
    assert 'view="signal-list"' in text


def test_django_request_metrics_count_each_request_by_view(api_client):
    labels = {"view": "signal-stats", "method": "GET"}
    before = value(BY_VIEW, transport="http", **labels)
    statuses = value(BY_STATUS, status="200", **labels)
    for _ in range(3):
        assert api_client.get("/api/signals/stats/").status_code == 200
    assert value(BY_VIEW, transport="http", **labels) == before + 3
    assert value(BY_STATUS, status="200", **labels) == statuses + 3


def test_fast_path_hits_are_counted_like_requests_django_answered():
    SignalFactory()
    wsgi = Wsgi()
    labels = {"view": "signal-list", "method": "GET"}
    before = (
        value(BY_VIEW, transport="http", **labels),
        value(BY_STATUS, status="200", **labels),
        value(LATENCY, **labels),
        value("django_http_requests_before_middlewares_total"),
    )
    assert wsgi.get("/api/signals/").headers["X-Cache"] == "MISS"
    for _ in range(2):
        assert wsgi.get("/api/signals/").headers["X-Cache"] == "HIT"
    assert wsgi.django_calls == 1, "the hits must not reach Django"
    after = (
        value(BY_VIEW, transport="http", **labels),
        value(BY_STATUS, status="200", **labels),
        value(LATENCY, **labels),
        value("django_http_requests_before_middlewares_total"),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [3, 3, 3, 3]
