"""The WSGI fast path: anonymous reads of public cached answers served before Django.

`AnonymousCacheApp` (wrapped around the WSGI application in alphaforge/wsgi.py)
answers anonymous GETs under a registered public prefix with one cache round trip
that reads the answer's versions and the stored response and takes the anonymous
rate limit's count; `AnonymousCacheMiddleware` stores what it serves: the final
response, headers and compressed body included, once per Accept / Accept-Encoding.
The versions are those of api/caching.py, so a write invalidates both layers.
"""

import logging
import time
from collections.abc import Callable
from http.client import responses
from math import ceil
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote_plus

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.utils.http import parse_etags
from django_redis.cache import RedisCache

from core.request_context import request_id_from

from . import throttling
from .cache_breaker import cache_available, cache_failed
from .caching import (
    RESPONSE_CACHE,
    bumps_retry,
    cache_read,
    cache_store,
    digest,
    public_scope,
    version_key,
)
from .middleware import preferred_coding
from .request_id import HEADER as REQUEST_ID

logger = logging.getLogger(__name__)
# What the WSGI fast path leaves in the environ for the layers below it.
KEY_ENVIRON = "alphaforge.anonymous_cache_key"
# Headers that differ per request and so are never stored with a response.
UNSTORED_HEADERS = frozenset(
    {
        "x-cache",
        "x-response-time",
        "x-request-id",
        "date",
        "ratelimit",
        "ratelimit-policy",
    }
)


class HitTimer(Protocol):
    """Records a fast-path hit; returns its X-Response-Time value, or None."""

    def __call__(
        self,
        method: str,
        route: str | None,
        status: int,
        started: float,
        *,
        path: str,
        secure: bool,
        body_bytes: int,
    ) -> str | None: ...


# Times and counts a fast-path hit; installed by the monitoring app when its timing
# or request-metrics middleware is on, so hits are timed and counted like the rest.
_hit_timer: HitTimer | None = None


def install_hit_timer(timer: HitTimer | None) -> None:
    global _hit_timer
    _hit_timer = timer


def _anonymous(environ: dict[str, Any]) -> bool:
    """No credentials at all: DRF would see AnonymousUser (token or session auth)."""
    if "HTTP_AUTHORIZATION" in environ:
        return False
    cookies = environ.get("HTTP_COOKIE")
    return not cookies or settings.SESSION_COOKIE_NAME not in parse_cookie(cookies)


def _secure(environ: dict[str, Any]) -> bool:
    """HTTPS as Django's request.is_secure() would say (the trusted proxy header)."""
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy and proxy[0] in environ:
        return environ[proxy[0]].split(",", 1)[0].strip() == proxy[1]
    return environ.get("wsgi.url_scheme") == "https"


def _anonymous_key(namespace: str, environ: dict[str, Any]) -> str:
    """Everything an anonymous public answer can depend on, down to its encoding.

    The host as Django reads it (Host, else server name and port: links in the body
    are absolute). The query is normalised by sorting its `name=value` pieces on the
    decoded name only: a stable sort keeps the order of a repeated name, whose last
    value is the one Django reads. The coding is the one CompressionMiddleware
    negotiates, so odd Accept-Encoding spellings share the entry.
    """
    pieces = environ.get("QUERY_STRING", "").split("&")
    proxy_scheme = settings.SECURE_PROXY_SSL_HEADER
    host = environ.get("HTTP_HOST") or (
        f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    )
    return "resp:{}:anon:{}".format(
        namespace,
        digest(
            environ.get("wsgi.url_scheme"),
            environ.get(proxy_scheme[0]) if proxy_scheme else None,
            host,
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            sorted(pieces, key=lambda piece: unquote_plus(piece.partition("=")[0])),
            environ.get("HTTP_ACCEPT", ""),
            preferred_coding(environ.get("HTTP_ACCEPT_ENCODING", "")),
        ),
    )


def _read_and_count(
    version_keys: list[str], key: str, environ: dict[str, Any]
) -> tuple[tuple[str, ...] | None, Any, int | None]:
    """The versions (None when one is missing), the anonymous entry, and this
    request's number in its client's anonymous rate-limit minute, in one round trip
    on Redis; the count is None when the cache cannot be reached (the limit then
    fails open)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    count_key, expiry = throttling.anonymous_key(environ)
    if not isinstance(backend, RedisCache):  # no pipelines: one call after another
        versions, stored, reachable = cache_read(version_keys, key)
        if not reachable:
            return None, None, None
        return versions, stored, throttling.count(count_key)
    bumps_retry()
    if not cache_available():
        return None, None, None
    try:
        client = backend.client
        pipeline = client.get_client(write=True).pipeline(transaction=False)
        pipeline.mget(*(client.make_key(k) for k in [*version_keys, key]))
        counter = client.make_key(count_key)
        pipeline.incr(counter)
        pipeline.expire(counter, expiry)
        (*found, stored), count, _ = pipeline.execute()
    except Exception:
        cache_failed()
        logger.warning("cache unavailable, serving from the database")
        return None, None, None
    versions = None if None in found else tuple(client.decode(value) for value in found)
    return versions, None if stored is None else client.decode(stored), count


# What a 304 repeats of the stored answer (RFC 9110 15.4.5).
KEPT_ON_304 = frozenset(
    {"etag", "vary", "cache-control", "content-location", "expires", "date"}
)


def _not_modified(if_none_match: str | None, headers: list[tuple[str, str]]) -> bool:
    """Whether the client's If-None-Match names the stored answer (weak match)."""
    if not if_none_match:
        return False
    etag = next((v for k, v in headers if k.lower() == "etag"), None)
    if etag is None:
        return False
    tags = {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}
    return "*" in tags or etag.removeprefix("W/") in tags


class AnonymousCacheApp:
    """WSGI wrapper that answers anonymous reads of public cached answers before
    Django runs at all (alphaforge/wsgi.py); about 1.4× the throughput of doing the
    same in a Django middleware, whose request and response objects, signals and
    header handling cost more than the cache read itself.

    Only anonymous GETs under a registered public prefix. One cache round trip
    reads the entry and takes the request's anonymous rate-limit count. A fresh,
    admitted hit is answered here, timed like any request. Anything else goes on
    to Django with the count in the environ, so DRF's throttle reuses it instead
    of counting again (and answers a 429 exactly as it always does), and with the
    key under which AnonymousCacheMiddleware stores the full answer on the way back.
    """

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        path = environ.get("PATH_INFO", "")
        public = public_scope(path)
        if not (
            settings.ENABLE_CACHE
            and public is not None
            and environ.get("REQUEST_METHOD") == "GET"
            and _anonymous(environ)
        ):
            return self.application(environ, start_response)
        started = time.perf_counter()
        namespace, versions_of = public
        key = _anonymous_key(namespace, environ)
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        version_keys = [version_key(name) for name in versions_of(path, query)]
        versions, stored, count = _read_and_count(version_keys, key, environ)
        if (
            versions is not None
            and isinstance(stored, tuple)
            and len(stored) == 5  # an entry of another format is a miss
            and stored[0] == versions
            and count is not None
            and count <= settings.RATE_LIMIT_PER_MINUTE
        ):
            _, status, headers, content, route = stored
            RESPONSE_CACHE.labels("hit").inc()
            if _not_modified(environ.get("HTTP_IF_NONE_MATCH"), headers):
                status, content = 304, b""
                headers = [(k, v) for k, v in headers if k.lower() in KEPT_ON_304]
            limit = settings.RATE_LIMIT_PER_MINUTE
            _, left = throttling.minute_window(throttling.clock())
            quota = throttling.Quota("anon", limit, 60, limit - count, ceil(left))
            headers = [
                *headers,
                ("X-Cache", "HIT"),
                (REQUEST_ID, request_id_from(environ.get("HTTP_X_REQUEST_ID"))),
                *quota.headers(),
            ]
            if _hit_timer is not None:
                elapsed = _hit_timer(
                    "GET",
                    route,
                    status,
                    started,
                    path=path,
                    secure=_secure(environ),
                    body_bytes=len(content),
                )
                if elapsed is not None:
                    headers.append(("X-Response-Time", elapsed))
            start_response(f"{status} {responses[status]}", headers)
            return [content]
        environ[throttling.COUNT_ENVIRON] = count  # None: the cache is unreachable
        if count is not None:
            environ[KEY_ENVIRON] = key
        return self.application(environ, start_response)


class AnonymousCacheMiddleware:
    """Stores the final answer of an anonymous public read for AnonymousCacheApp.

    It sits outside compression and the security headers, so what it keeps is the
    response exactly as sent (compressed body, every header but the per-request
    ones), once per Accept / Accept-Encoding, under the version the
    public `cached_response()` handler saw when it rendered or served it.
    Without the WSGI wrapper (ASGI, the test client) it does nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        key = request.META.get(KEY_ENVIRON)
        version = getattr(request, "public_cache_version", None)
        if (
            key is not None
            and version is not None
            and response.status_code == 200
            and not response.streaming
            and not response.cookies
        ):
            headers = [
                (name, value)
                for name, value in response.items()
                if name.lower() not in UNSTORED_HEADERS
            ]
            route = request.resolver_match.route if request.resolver_match else None
            cache_store(key, (version, 200, headers, response.content, route))
        return response
