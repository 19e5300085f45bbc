"""Versioned response cache shared by every server process.

Each cached answer is stored with the versions of what it depends on at the time it
was rendered: names an app chooses ("journal:<user id>" for a user's journal; for
signals the unfiltered answers, each pair and each signal: signals/cache_versions.py).
A write replaces the versions of what it changed with a new unique token in the
shared cache, so the very next read of an answer that may contain the change, on any
process, sees a different version and misses; other answers stay cached. One round
trip reads the versions and the answer.

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
from collections.abc import Callable, Mapping
from http.client import responses
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote_plus

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.exceptions import ImproperlyConfigured
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


# The version names an answer depends on, from its path and query (the last value
# of each parameter, as Django reads it).
VersionsOf = Callable[[str, Mapping[str, str]], tuple[str, ...]]
# Path prefix -> (namespace, versions) of the public answers under it, registered by
# their app (AppConfig.ready). Every view under such a prefix must take the default
# rate limits: the fast path counts every anonymous GET there, also one for an
# unknown path (checked in api/tests/test_caching.py).
PUBLIC_PREFIXES: dict[str, tuple[str, VersionsOf]] = {}


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


def register_public_prefix(prefix: str, namespace: str, versions: VersionsOf) -> None:
    """Anonymous GETs under `prefix` may be served by the WSGI fast path; their
    answers are stored under `namespace` and depend on the `versions` of their
    path and query (the same function for the fast path and the views)."""
    PUBLIC_PREFIXES[prefix] = (namespace, versions)


def install_hit_timer(timer: HitTimer | None) -> None:
    global _hit_timer
    _hit_timer = timer


def _public(path: str) -> tuple[str, VersionsOf] | None:
    for prefix, public in PUBLIC_PREFIXES.items():
        if path.startswith(prefix):
            return public
    return None


def _version_key(name: str) -> str:
    return f"version:{name}"


def _version_ttl() -> int:
    """Versions expire (a signal's own version would otherwise live for ever); a
    missing version reads as a new token, so expiry costs a miss, never a stale
    hit. They outlive the answers stored under them."""
    return settings.CACHE_TTL * 2


# Versions whose bump failed (cache unreachable) in this process: bumped again
# before this process's next cache read, so that answers cached before the outage
# are not served as fresh once the cache is back. (Between the cache's return and
# that read, other processes may still serve them, at most for CACHE_TTL.)
_unbumped: set[str] = set()
_unbumped_lock = threading.Lock()


def _bump(names: set[str]) -> bool:
    with _unbumped_lock:  # a late success must not clear another thread's failure
        if cache_available():
            token = uuid.uuid4().hex
            try:
                cache.set_many(
                    {_version_key(name): token for name in names}, _version_ttl()
                )
            except Exception:
                cache_failed()
            else:
                _unbumped.difference_update(names)
                return True
        _unbumped.update(names)
        return False


def cache_bump(*names: str) -> None:
    """Invalidate, on every process, every cached answer depending on a version
    of these names."""
    if not _bump(set(names)):  # the cache being down must not fail the write
        logger.error("could not bump %d cache versions; retried later", len(names))


def _bump_pending() -> None:
    pending = set(_unbumped)
    if _bump(pending):
        logger.warning("%d cache versions bumped after an outage", len(pending))


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _response_key(namespace: str, request: Request) -> str:
    """Namespace, origin (links in the body are absolute), path, sorted query and
    the negotiated media type (its parameters, e.g. indent, change the bytes)."""
    query = sorted(request.query_params.lists())
    origin = f"{request.scheme}://{request.get_host()}"
    media = request.accepted_media_type
    return f"resp:{namespace}:{_digest(origin, request.path, query, media)}"


def _versions_start(keys: list[str]) -> tuple[str, ...] | None:
    """The versions, each created when missing (add() keeps a racing bump); None
    when the cache cannot be reached."""
    try:
        for key in keys:
            cache.add(key, uuid.uuid4().hex, _version_ttl())
        found = cache.get_many(keys)
    except Exception:
        cache_failed()
        return None
    versions = tuple(found.get(key) for key in keys)
    return None if None in versions else versions


def _read(keys: list[str], key: str) -> tuple[tuple[str, ...] | None, Any, bool]:
    """The versions (None when one is missing), the stored entry, and whether the
    cache answered (a missing version and an unreachable cache are different
    things)."""
    if _unbumped and cache_available():
        _bump_pending()
    if not cache_available():
        return None, None, False
    try:
        found = cache.get_many([*keys, key])
    except Exception:
        cache_failed()
        logger.warning("cache unavailable, serving from the database")
        return None, None, False
    versions = tuple(found.get(name) for name in keys)
    return (None if None in versions else versions), found.get(key), True


def _store(key: str, entry: tuple) -> None:
    if not cache_available():
        return
    try:
        cache.set(key, entry, settings.CACHE_TTL)
    except Exception:
        cache_failed()
        logger.warning("cache unavailable, answer not stored")


def _scope(
    request: Request, namespace: Callable[[Request], str] | None
) -> tuple[str, list[str]]:
    """Where the answer is stored and the keys of the versions it depends on."""
    if namespace is None:
        public = _public(request.path_info)
        if public is None:
            raise ImproperlyConfigured(f"no public prefix for {request.path_info}")
        space, versions_of = public
        names = versions_of(request.path_info, request.query_params)
    else:
        space = namespace(request)
        names = (space,)
    return space, [_version_key(name) for name in names]


def cached_response(
    namespace: Callable[[Request], str] | None = None,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Serve a GET handler's rendered JSON bytes from the shared cache.

    With `namespace` (e.g. the caller's own journal) the answer depends on that one
    version. Without, the answer is public, the same for every caller: its
    namespace and versions are those its app registered for the path
    (register_public_prefix), and AnonymousCacheMiddleware may also keep the final
    response for the fast path's anonymous reads.
    """
    public = namespace is None

    def decorator(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
            if (
                not settings.ENABLE_CACHE
                or request.method != "GET"
                or request.accepted_renderer.format != "json"  # no HTML forms
            ):
                return handler(view, request, *args, **kwargs)
            space, version_keys = _scope(request, namespace)
            key = _response_key(space, request)
            versions, stored, reachable = _read(version_keys, key)
            if versions is not None and stored and stored[0] == versions:
                _, status, content_type, content = stored
                hit = HttpResponse(content, status=status, content_type=content_type)
                hit["X-Cache"] = "HIT"
                RESPONSE_CACHE.labels("hit").inc()
                if public:
                    request._request.public_cache_version = versions
                return hit
            if reachable and versions is None:
                # Settled before the handler reads the database: a write that
                # commits after this moment bumps past it, so an answer rendered
                # from older rows is never stored under a newer version.
                versions = _versions_start(version_keys)
            response = handler(view, request, *args, **kwargs)
            response["X-Cache"] = "MISS"
            if reachable:
                RESPONSE_CACHE.labels("miss").inc()
            if response.status_code == 200 and versions is not None:
                if public:
                    request._request.public_cache_version = versions

                def store(rendered: Response) -> None:
                    entry = (versions, 200, rendered["Content-Type"], rendered.content)
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
    version_keys: list[str], key: str, environ: dict[str, Any]
) -> tuple[tuple[str, ...] | None, Any, int | None]:
    """The versions (None when one is missing), the anonymous entry, and this
    request's number in its client's anonymous rate-limit minute, in one round trip
    on Redis; the count is None when the cache cannot be reached (the limit then
    fails open)."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    count_key, expiry = throttling.anonymous_key(environ)
    if not isinstance(backend, RedisCache):  # no pipelines: one call after another
        versions, stored, reachable = _read(version_keys, key)
        if not reachable:
            return None, None, None
        return versions, stored, throttling.count(count_key)
    if _unbumped and cache_available():
        _bump_pending()
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
        public = _public(path)
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
        version_keys = [_version_key(name) for name in versions_of(path, query)]
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
            headers = [*headers, ("X-Cache", "HIT")]
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
            _store(key, (version, 200, headers, response.content, route))
        return response
