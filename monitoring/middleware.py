import functools
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django_prometheus.middleware import Metrics

from .metrics import REQUEST_DURATION

logger = logging.getLogger("alphaforge.requests")
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@functools.lru_cache(maxsize=512)
def route_label(pattern: str) -> str:
    """`signals/(?P<pk>\\d+)/$` → `/signals/{pk}/`: one label per route, not per URL."""
    label = GROUP.sub(r"{\1}", pattern)
    return "/" + label.replace("^", "").replace("$", "").replace("\\", "")


@functools.lru_cache(maxsize=1024)
def _duration_series(method: str, route: str) -> Any:
    return REQUEST_DURATION.labels(method, route)


def request_timed(method: str, pattern: str | None, status: int, started: float) -> str:
    """Record a finished request (per-route histogram, slow log); returns the
    X-Response-Time value. Also used by the response cache's WSGI fast path."""
    elapsed = time.perf_counter() - started
    milliseconds = elapsed * 1000
    route = route_label(pattern) if pattern else "<unmatched>"
    _duration_series(method, route).observe(elapsed)
    if milliseconds > settings.SLOW_REQUEST_MS:
        logger.warning(
            "slow request: %s %s %s %.1fms", method, route, status, milliseconds
        )
    return f"{milliseconds:.2f}ms"


class TimingMiddleware:
    """Times every request: X-Response-Time, per-route metrics, a slow-request log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        response["X-Response-Time"] = request_timed(
            request.method,
            match.route if match else None,
            response.status_code,
            started,
        )
        return response


@functools.lru_cache(maxsize=2048)
def _view_name(path: str) -> str:
    """The URL name django-prometheus labels a request with (one per path)."""
    try:
        return resolve(path).view_name or "<unnamed view>"
    except Resolver404:
        return "<unnamed view>"


@functools.lru_cache(maxsize=1024)
def _hit_series(method: str, view: str, transport: str, status: str) -> tuple:
    """The labelled series one kind of fast-path hit adds to, looked up once: the
    label lookup cost more than the increments themselves."""
    metrics = Metrics.get_instance()
    return (
        metrics.requests_by_method.labels(method=method),
        metrics.requests_by_transport.labels(transport=transport),
        metrics.requests_by_view_transport_method.labels(
            view=view, transport=transport, method=method
        ),
        metrics.responses_by_status.labels(status=status),
        metrics.responses_by_status_view_method.labels(
            status=status, view=view, method=method
        ),
        metrics.responses_by_charset.labels(charset="utf-8"),
    ), metrics.requests_latency_by_view_method.labels(view=view, method=method)


def count_fast_path_hit(
    method: str,
    status: int,
    elapsed: float,
    *,
    path: str,
    secure: bool,
    body_bytes: int,
) -> None:
    """What django-prometheus' before and after middlewares record for a request,
    for one the WSGI fast path answered before Django (and they) ran."""
    metrics = Metrics.get_instance()
    transport = "https" if secure else "http"
    counters, latency = _hit_series(method, _view_name(path), transport, str(status))
    metrics.requests_total.inc()
    metrics.responses_total.inc()
    metrics.requests_latency_before.observe(elapsed)
    metrics.requests_body_bytes.observe(0)
    metrics.responses_body_bytes.observe(body_bytes)
    for counter in counters:
        counter.inc()
    latency.observe(elapsed)


def fast_path_recorder(*, timing: bool, counting: bool) -> Callable[..., str | None]:
    """The hook api.fast_path calls for each fast-path hit: timed when the timing
    middleware is on, counted when django-prometheus' middlewares are."""

    def record(
        method: str,
        pattern: str | None,
        status: int,
        started: float,
        *,
        path: str,
        secure: bool,
        body_bytes: int,
    ) -> str | None:
        if counting:
            count_fast_path_hit(
                method,
                status,
                time.perf_counter() - started,
                path=path,
                secure=secure,
                body_bytes=body_bytes,
            )
        return request_timed(method, pattern, status, started) if timing else None

    return record
