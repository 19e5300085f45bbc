import functools
import logging
import re
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .metrics import REQUEST_DURATION

logger = logging.getLogger("alphaforge.requests")
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@functools.lru_cache(maxsize=512)
def route_label(pattern: str) -> str:
    """`signals/(?P<pk>\\d+)/$` → `/signals/{pk}/`: one label per route, not per URL."""
    label = GROUP.sub(r"{\1}", pattern)
    return "/" + label.replace("^", "").replace("$", "").replace("\\", "")


def request_timed(method: str, pattern: str | None, status: int, started: float) -> str:
    """Record a finished request (per-route histogram, slow log); returns the
    X-Response-Time value. Also used by the response cache's WSGI fast path."""
    elapsed = time.perf_counter() - started
    milliseconds = elapsed * 1000
    route = route_label(pattern) if pattern else "<unmatched>"
    REQUEST_DURATION.labels(method, route).observe(elapsed)
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
