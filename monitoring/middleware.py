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


class TimingMiddleware:
    """Times every request: X-Response-Time, per-route metrics, a slow-request log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        milliseconds = elapsed * 1000
        response["X-Response-Time"] = f"{milliseconds:.2f}ms"
        match = request.resolver_match
        route = route_label(match.route) if match else "<unmatched>"
        REQUEST_DURATION.labels(request.method, route).observe(elapsed)
        if milliseconds > settings.SLOW_REQUEST_MS:
            logger.warning(
                "slow request: %s %s %s %.1fms",
                request.method,
                route,
                response.status_code,
                milliseconds,
            )
        return response
