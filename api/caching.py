"""Versioned response cache shared by every server process.

Each cached answer is stored with the versions of what it depends on at the time it
was rendered: names an app chooses ("journal:<user id>" for a user's journal; for
signals the unfiltered answers, each pair and each signal: signals/cache_versions.py).
A write replaces the versions of what it changed with a new unique token in the
shared cache, so the very next read of an answer that may contain the change, on any
process, sees a different version and misses; other answers stay cached. One round
trip reads the versions and the answer.

Two layers share the versions:

- `cached_response` (here) wraps a view handler: it stores the rendered JSON bytes,
  keyed by the namespace (the user for the journal), the URL and the query, and
  serves them without re-serialising.
- the WSGI fast path (api/fast_path.py) answers anonymous reads of the public
  answers (paths an app registered with `register_public_prefix`) before Django
  runs.
"""

import functools
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from prometheus_client import Counter
from rest_framework.request import Request
from rest_framework.response import Response

from .cache_breaker import cache_available, cache_failed

logger = logging.getLogger(__name__)
RESPONSE_CACHE = Counter(
    "alphaforge_response_cache", "Cached-response lookups by result.", ["result"]
)


# The version names an answer depends on, from its path and query (the last value
# of each parameter, as Django reads it).
VersionsOf = Callable[[str, Mapping[str, str]], tuple[str, ...]]
# Path prefix -> (namespace, versions) of the public answers under it, registered by
# their app (AppConfig.ready). Every view under such a prefix must take the default
# rate limits: the fast path counts every anonymous GET there, also one for an
# unknown path (checked in api/tests/test_caching.py).
PUBLIC_PREFIXES: dict[str, tuple[str, VersionsOf]] = {}


def register_public_prefix(prefix: str, namespace: str, versions: VersionsOf) -> None:
    """Anonymous GETs under `prefix` may be served by the WSGI fast path; their
    answers are stored under `namespace` and depend on the `versions` of their
    path and query (the same function for the fast path and the views)."""
    PUBLIC_PREFIXES[prefix] = (namespace, versions)


def public_scope(path: str) -> tuple[str, VersionsOf] | None:
    for prefix, public in PUBLIC_PREFIXES.items():
        if path.startswith(prefix):
            return public
    return None


def version_key(name: str) -> str:
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
                    {version_key(name): token for name in names}, _version_ttl()
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


def bumps_retry() -> None:
    """Make the bumps an outage kept this process from making, before it reads."""
    if not (_unbumped and cache_available()):
        return
    pending = set(_unbumped)
    if _bump(pending):
        logger.warning("%d cache versions bumped after an outage", len(pending))


def digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _response_key(namespace: str, request: Request) -> str:
    """Namespace, origin (links in the body are absolute), path, sorted query and
    the negotiated media type (its parameters, e.g. indent, change the bytes)."""
    query = sorted(request.query_params.lists())
    origin = f"{request.scheme}://{request.get_host()}"
    media = request.accepted_media_type
    return f"resp:{namespace}:{digest(origin, request.path, query, media)}"


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


def cache_read(keys: list[str], key: str) -> tuple[tuple[str, ...] | None, Any, bool]:
    """The versions (None when one is missing), the stored entry, and whether the
    cache answered (a missing version and an unreachable cache are different
    things)."""
    bumps_retry()
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


def cache_store(key: str, entry: tuple) -> None:
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
        public = public_scope(request.path_info)
        if public is None:
            raise ImproperlyConfigured(f"no public prefix for {request.path_info}")
        space, versions_of = public
        names = versions_of(request.path_info, request.query_params)
    else:
        space = namespace(request)
        names = (space,)
    return space, [version_key(name) for name in names]


def _fill_key(key: str, versions: tuple[str, ...]) -> str:
    # Per version: a reader that saw a write acknowledged reads its new version and
    # so never waits for an answer computed before it (read-your-writes).
    return f"fill:{key}:{digest(versions)}"


def _fill_claim(key: str, versions: tuple[str, ...]) -> bool | None:
    """Claim the computation of this answer: True (ours), False (another request
    has it), None (the cache cannot tell: compute)."""
    try:
        return bool(
            cache.add(_fill_key(key, versions), 1, settings.CACHE_FILL_LOCK_SECONDS)
        )
    except Exception:
        cache_failed()
        return None


def _fill_release(
    key: str, versions: tuple[str, ...] | None, fill: bool | None
) -> None:
    if fill and versions is not None:
        try:
            cache.delete(_fill_key(key, versions))
        except Exception:
            cache_failed()


def _fill_wait(key: str, versions: tuple[str, ...]) -> HttpResponse | None:
    """The answer the claiming request stores, once it does, within
    CACHE_FILL_WAIT_SECONDS; None (compute it here) when it does not come."""
    deadline = time.monotonic() + settings.CACHE_FILL_WAIT_SECONDS
    pause = 0.002
    while time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
        fill_key = _fill_key(key, versions)
        try:
            found = cache.get_many([key, fill_key])
        except Exception:
            cache_failed()
            return None
        stored = found.get(key)
        if stored and stored[0] == versions:
            _, status, content_type, content = stored
            shared = HttpResponse(content, status=status, content_type=content_type)
            shared["X-Cache"] = "HIT"
            RESPONSE_CACHE.labels("shared").inc()
            return shared
        if fill_key not in found:
            return None  # the claimant finished without storing (an error): compute
    return None


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
            versions, stored, reachable = cache_read(version_keys, key)
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
            fill = _fill_claim(key, versions) if versions is not None else None
            if fill is False:  # another request is computing this very answer
                shared = _fill_wait(key, versions)
                if shared is not None:
                    if public:
                        request._request.public_cache_version = versions
                    return shared
            try:
                response = handler(view, request, *args, **kwargs)
            except BaseException:
                _fill_release(key, versions, fill)
                raise
            response["X-Cache"] = "MISS"
            if reachable:
                RESPONSE_CACHE.labels("miss").inc()
            if response.status_code == 200 and versions is not None:
                if public:
                    request._request.public_cache_version = versions

                def store(rendered: Response) -> None:
                    entry = (versions, 200, rendered["Content-Type"], rendered.content)
                    cache_store(key, entry)
                    _fill_release(key, versions, fill)

                response.add_post_render_callback(store)
            else:
                _fill_release(key, versions, fill)
            return response

        return wrapper

    return decorator
