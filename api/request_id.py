"""X-Request-ID: the client's own (when sane) or a new one, on every answer, every log
line of the request and the background work it causes (core/request_context.py).
With REQUEST_LOG on, one line a request: method, path, status, duration, user."""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from core.request_context import current_request, request_id, request_id_from

HEADER = "X-Request-ID"
logger = logging.getLogger("alphaforge.access")


class RequestIdMiddleware:
    """Outermost: everything inside, the views and the logs, sees the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        value = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        # Kept until the response is closed (request_finished), so Django's own
        # "Bad Request: …" line, written after the middleware, carries the id too.
        request_id.set(value)
        current_request.set(request)
        response = self.get_response(request)
        response[HEADER] = value
        if settings.REQUEST_LOG:
            duration = round((time.perf_counter() - started) * 1000, 2)
            logger.info(
                "%s %s %s %.2fms",
                request.method,
                request.path,
                response.status_code,
                duration,
                extra={"status": response.status_code, "duration_ms": duration},
            )
        return response


def _forget_request(**kwargs: object) -> None:
    request_id.set(None)
    current_request.set(None)


request_finished.connect(_forget_request, dispatch_uid="api.request_id.forget")
