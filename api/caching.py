"""Versioned response cache shared by every server process.

Each cached answer is stored with the version of its namespace (apps name their
own: "signals", "journal:<user id>") at the time it was rendered. A write replaces
that version with a new unique token in the shared cache, so the very next read on
any process sees a different version and misses. One round trip reads both the
version and the answer.

Two layers share the versions:

- `cached_response` wraps a view handler: it stores the rendered JSON bytes, keyed by
  the namespace (the user for the journal), the URL and the query, and serves them
  without re-serialising.
- `AnonymousCacheApp` (a WSGI wrapper) answers anonymous reads of the public answers
  (paths an app registered with `register_public_prefix`) before Django runs, with
  one cache round trip that also takes the anonymous rate limit's count;
  `AnonymousCacheMiddleware` stores what it serves: the final response, headers and
  compressed body included, once per Accept / Accept-Encoding.
"""

import functools
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from http.client import responses
from typing import Any, Protocol
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.utils.http import parse_etags
from django_redis.cache import RedisCache
from prometheus_client import Counter
from rest_framework.request import Request
from rest_framework.response import Response

from . import throttling
from .cache_breaker import cache_available, cache_failed
from .middleware import preferred_coding

logger = logging.getLogger(__name__)
RESPONSE_CACHE = Counter(
    "alphaforge_response_cache", "Cached-response lookups by result.", ["result"]
)
# What the WSGI fast path leaves in the environ for the layers below it.
KEY_ENVIRON = "alphaforge.anonymous_cache_key"
# Headers that differ per request and so are never stored with a response.
UNSTORED_HEADERS = frozenset({"x-cache", "x-response-time", "date"})


# Path prefix -> namespace of the public answers under it, registered by their app
# (AppConfig.ready). Every view under such a prefix must take the default rate
# limits: the fast path counts every anonymous GET there, also one for an unknown
# path (checked in api/tests/test_caching.py).
PUBLIC_PREFIXES: dict[str, str] = {}


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


def register_public_prefix(prefix: str, namespace: str) -> None:
    """Anonymous GETs under `prefix` may be served by the WSGI fast path."""
    PUBLIC_PREFIXES[prefix] = namespace


def install_hit_timer(timer: HitTimer | None) -> None:
    global _hit_timer
    _hit_timer = timer


def _public_namespace(path: str) -> str | None:
    for prefix, namespace in PUBLIC_PREFIXES.items():
        if path.startswith(prefix):
            return namespace
    return None


def _version_key(namespace: str) -> str:
    return f"version:{namespace}"


# Namespaces whose bump failed (cache unreachable) in this process: bumped again
# before this process's next cache read, so that answers cached before the outage
# are not served as fresh once the cache is back. (Between the cache's return and
# that read, other processes may still serve them, at most for CACHE_TTL.)
_unbumped: set[str] = set()
_unbumped_lock = threading.Lock()


def _bump(namespace: str) -> bool:
    with _unbumped_lock:  # a late success must not clear another thread's failure
        if cache_available():
            try:
                cache.set(_version_key(namespace), uuid.uuid4().hex, None)
            except Exception:
                cache_failed()
            else:
                _unbumped.discard(namespace)
                return True
        _unbumped.add(namespace)
        return False


def cache_bump(namespace: str) -> None:
    """Invalidate every cached answer of the namespace on every process."""
    if not _bump(namespace):  # the cache being down must not fail the write itself
        logger.error("could not bump cache version of %s; retried later", namespace)


def _bump_pending() -> None:
    for namespace in list(_unbumped):
        if not _bump(namespace):
            return  # still down: the rest waits for the next read
        logger.warning("cache version of %s bumped after an outage", namespace)


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _response_key(namespace: str, request: Request) -> str:
    """Namespace, origin (links in the body are absolute), path, sorted query and
    the negotiated media type (its parameters, e.g. indent, change the bytes)."""
    query = sorted(request.query_params.lists())
    origin = f"{request.scheme}://{request.get_host()}"
    media = request.accepted_media_type
    return f"resp:{namespace}:{_digest(origin, request.path, query, media)}"


def _version_start(version_key: str) -> str | None:
    """The namespace's version, created when missing (add() keeps a racing bump);
    None when the cache cannot be reached."""
    version = uuid.uuid4().hex
    try:
        cache.add(version_key, version, None)
        return cache.get(version_key, version)
    except Exception:
        cache_failed()
        return None


def _read(version_key: str, key: str) -> tuple[Any, Any, bool]:
    """The namespace's version, the stored entry, and whether the cache answered
    (a missing version and an unreachable cache are different things)."""
    if _unbumped and cache_available():
        _bump_pending()
    if not cache_available():
        return None, None, False
    try:
        found = cache.get_many([version_key, key])
    except Exception:
        cache_failed()
        logger.warning("cache unavailable, serving from the database")
        return None, None, False
    return found.get(version_key), found.get(key), True


def _store(key: str, entry: tuple) -> None:
    if not cache_available():
        return
    try:
        cache.set(key, entry, settings.CACHE_TTL)
    except Exception:
        cache_failed()
        logger.warning("cache unavailable, answer not stored")


def cached_response(
    namespace: Callable[[Request], str], *, public: bool = False
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Serve a GET handler's rendered JSON bytes from the shared cache.

    `public`: the answer is the same for every caller (no per-user namespace), so
    AnonymousCacheMiddleware may also keep the final response for anonymous reads.
    """

    def decorator(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
            if (
                not settings.ENABLE_CACHE
                or request.method != "GET"
                or request.accepted_renderer.format != "json"  # no HTML forms
            ):
                return handler(view, request, *args, **kwargs)
            space = namespace(request)
            version_key, key = _version_key(space), _response_key(space, request)
            version, stored, reachable = _read(version_key, key)
            if version is not None and stored and stored[0] == version:
                _, status, content_type, content = stored
                hit = HttpResponse(content, status=status, content_type=content_type)
                hit["X-Cache"] = "HIT"
                RESPONSE_CACHE.labels("hit").inc()
                if public:
                    request._request.public_cache_version = version
                return hit
            if reachable and version is None:
                # Settled before the handler reads the database: a write that
                # commits after this moment bumps past it, so an answer rendered
                # from older rows is never stored under a newer version.
                version = _version_start(version_key)
            response = handler(view, request, *args, **kwargs)
            response["X-Cache"] = "MISS"
            if reachable:
                RESPONSE_CACHE.labels("miss").inc()
            if response.status_code == 200 and version is not None:
                if public:
                    request._request.public_cache_version = version

                def store(rendered: Response) -> None:
                    entry = (version, 200, rendered["Content-Type"], rendered.content)
                    _store(key, entry)

                response.add_post_render_callback(store)
            return response

        return wrapper

    return decorator


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
        _digest(
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
    version_key: str, key: str, environ: dict[str, Any]
) -> tuple[Any, Any, int | None]:
    """The namespace's version, the anonymous entry, and this request's number in
    its client's anonymous rate-limit minute, in one round trip on Redis; the count
    is None when the cache cannot be reached (the limit then fails open)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    count_key, expiry = throttling.anonymous_key(environ)
    if not isinstance(backend, RedisCache):  # no pipelines: one call after another
        version, stored, reachable = _read(version_key, key)
        if not reachable:
            return None, None, None
        return version, stored, throttling.count(count_key)
    if _unbumped and cache_available():
        _bump_pending()
    if not cache_available():
        return None, None, None
    try:
        client = backend.client
        pipeline = client.get_client(write=True).pipeline(transaction=False)
        pipeline.mget(client.make_key(version_key), client.make_key(key))
        counter = client.make_key(count_key)
        pipeline.incr(counter)
        pipeline.expire(counter, expiry)
        (version, stored), count, _ = pipeline.execute()
    except Exception:
        cache_failed()
        logger.warning("cache unavailable, serving from the database")
        return None, None, None
    return (
        None if version is None else client.decode(version),
        None if stored is None else client.decode(stored),
        count,
    )


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
        namespace = _public_namespace(environ.get("PATH_INFO", ""))
        if not (
            settings.ENABLE_CACHE
            and namespace is not None
            and environ.get("REQUEST_METHOD") == "GET"
            and _anonymous(environ)
        ):
            return self.application(environ, start_response)
        started = time.perf_counter()
        key = _anonymous_key(namespace, environ)
        version_key = _version_key(namespace)
        version, stored, count = _read_and_count(version_key, key, environ)
        if (
            version is not None
            and isinstance(stored, tuple)
            and len(stored) == 5  # an entry of another format is a miss
            and stored[0] == version
            and count is not None
            and count <= settings.RATE_LIMIT_PER_MINUTE
        ):
            _, status, headers, content, route = stored
            RESPONSE_CACHE.labels("hit").inc()
            if _not_modified(environ.get("HTTP_IF_NONE_MATCH"), headers):
                status, content = 304, b""
                headers = [(k, v) for k, v in headers if k.lower() in KEPT_ON_304]
            headers = [*headers, ("X-Cache", "HIT")]
            if _hit_timer is not None:
                elapsed = _hit_timer(
                    "GET",
                    route,
                    status,
                    started,
                    path=environ.get("PATH_INFO", ""),
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
    `cached_response(public=True)` handler saw when it rendered or served it.
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
            _store(key, (version, 200, headers, response.content, route))
        return response
