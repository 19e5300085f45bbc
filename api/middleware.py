"""HTTP plumbing: compression for the WSGI server, a 503 when the database is down,
no session machinery for API requests without a session."""

import logging
from collections.abc import Callable

import brotli
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.gzip import compress_string
from django.utils.cache import patch_vary_headers
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

logger = logging.getLogger(__name__)
# Errors of a healthy database that a retry resolves: not a 503.
CONFLICTS = (
    pg_errors.DeadlockDetected,
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
)
MIN_SIZE = 500  # smaller bodies fit in one packet anyway
BROTLI_QUALITY = 4  # near gzip's speed, smaller output


def _accepts(header: str, coding: str) -> bool:
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip() == coding:
            return params.replace(" ", "") not in ("q=0", "q=0.0")
    return False


def preferred_coding(accept_encoding: str) -> str:
    """ "br" when accepted, else "gzip" when accepted, else "" (identity)."""
    if _accepts(accept_encoding, "br"):
        return "br"
    if _accepts(accept_encoding, "gzip"):
        return "gzip"
    return ""


class CompressionMiddleware:
    """Brotli when the client accepts br, else gzip, above MIN_SIZE bytes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not settings.COMPRESS_IN_DJANGO
            or response.streaming
            or response.has_header("Content-Encoding")
            or len(response.content) < MIN_SIZE
        ):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        coding = preferred_coding(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        if coding == "br":
            body = brotli.compress(response.content, quality=BROTLI_QUALITY)
        elif coding == "gzip":
            body = compress_string(response.content)
        else:
            return response
        if len(body) >= len(response.content):
            return response
        response.content = body
        response["Content-Length"] = str(len(body))
        response["Content-Encoding"] = coding
        # The ETag names the uncompressed body: each coding is the same answer in
        # meaning, not byte for byte, so the tag becomes weak (as Django's own do).
        etag = response.get("ETag")
        if etag and not etag.startswith("W/"):
            response["ETag"] = "W/" + etag
        return response


class DatabaseUnavailableMiddleware:
    """A JSON 503 with Retry-After, not a 500 page, while the database is down."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError | PoolTimeout):
            return None
        if isinstance(exception.__cause__, CONFLICTS):
            response = JsonResponse(
                {"detail": "A concurrent write conflicted with this one; retry."},
                status=409,
            )
            response["Retry-After"] = "1"
            return response
        logger.error("database unavailable: %s", exception)
        response = JsonResponse(
            {"detail": "The database is unavailable; retry shortly."}, status=503
        )
        response["Retry-After"] = "5"
        return response


class BodySizeLimitMiddleware:
    """413 for a body over MAX_BODY_BYTES before anything reads it.

    DRF's parsers read the raw stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    check, so the limit is enforced here on the declared length.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: at most {limit} bytes."},
                status=413,
            )
        return self.get_response(request)


def _sessionless_api(request: HttpRequest) -> bool:
    """An API request that carries no session cookie: its session would be empty,
    its user anonymous (DRF authenticates API requests itself), its messages none."""
    return (
        request.path_info.startswith("/api/")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class APISessionMiddleware(SessionMiddleware):
    """Django's sessions, skipped for sessionless API requests (about 0.15 ms of CPU
    a request with authentication and messages, for nothing). Their answers still
    say `Vary: Cookie`, as every API answer did: a session would change them."""

    def process_request(self, request: HttpRequest) -> None:
        if not _sessionless_api(request):
            super().process_request(request)

    def process_response(
        self, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        if not hasattr(request, "session"):
            patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)


class APIAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's `request.user`, except where APISessionMiddleware kept no session
    (DRF's authentication finds the anonymous user there itself)."""

    def process_request(self, request: HttpRequest) -> None:
        if hasattr(request, "session"):
            super().process_request(request)


class APIMessageMiddleware(MessageMiddleware):
    """Django's messages, except where APISessionMiddleware kept no session."""

    def process_request(self, request: HttpRequest) -> None:
        if hasattr(request, "session"):
            super().process_request(request)
