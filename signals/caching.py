"""Versioned response cache shared by every server process.

Each cached answer is stored with the version of its namespace ("signals", or
"journal:<user id>") at the time it was rendered. A write replaces that version with a
new unique token in the shared cache, so the very next read on any process sees a
different version and misses. One round trip reads both the version and the answer.
"""

import functools
import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from prometheus_client import Counter
from rest_framework.request import Request
from rest_framework.response import Response

logger = logging.getLogger(__name__)
SIGNALS_NAMESPACE = "signals"
RESPONSE_CACHE = Counter(
    "alphaforge_response_cache", "Cached-response lookups by result.", ["result"]
)


def journal_namespace(user_id: int) -> str:
    return f"journal:{user_id}"


def _version_key(namespace: str) -> str:
    return f"version:{namespace}"


def cache_bump(namespace: str) -> None:
    """Invalidate every cached answer of the namespace on every process."""
    try:
        cache.set(_version_key(namespace), uuid.uuid4().hex, None)
    except Exception:  # the cache being down must not fail the write itself
        logger.exception("could not bump cache version of %s", namespace)


def signals_cache_bump() -> None:
    cache_bump(SIGNALS_NAMESPACE)


def _response_key(namespace: str, request: Request) -> str:
    query = sorted(request.query_params.lists())
    raw = f"{request.path}?{query!r}|{request.accepted_renderer.format}"
    return f"resp:{namespace}:{hashlib.sha256(raw.encode()).hexdigest()}"


def _version_start(version_key: str) -> str:
    """The namespace's version, created when missing; add() keeps a racing bump."""
    version = uuid.uuid4().hex
    try:
        cache.add(version_key, version, None)
        return cache.get(version_key, version)
    except Exception:
        return version


def cached_response(
    namespace: Callable[[Request], str],
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Serve a GET handler's rendered bytes from the shared cache."""

    def decorator(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
            if not settings.ENABLE_CACHE or request.method != "GET":
                return handler(view, request, *args, **kwargs)
            space = namespace(request)
            version_key, key = _version_key(space), _response_key(space, request)
            try:
                found = cache.get_many([version_key, key])
            except Exception:
                logger.warning("cache unavailable, serving from the database")
                found = {}
            version = found.get(version_key)
            stored = found.get(key)
            if version is not None and stored and stored[0] == version:
                _, status, content_type, content = stored
                hit = HttpResponse(content, status=status, content_type=content_type)
                hit["X-Cache"] = "HIT"
                RESPONSE_CACHE.labels("hit").inc()
                return hit
            response = handler(view, request, *args, **kwargs)
            response["X-Cache"] = "MISS"
            RESPONSE_CACHE.labels("miss").inc()
            if response.status_code == 200:
                if version is None:
                    version = _version_start(version_key)

                def store(rendered: Response) -> None:
                    try:
                        cache.set(
                            key,
                            (version, 200, rendered["Content-Type"], rendered.content),
                            settings.CACHE_TTL,
                        )
                    except Exception:
                        logger.warning("cache unavailable, answer not stored")

                response.add_post_render_callback(store)
            return response

        return wrapper

    return decorator
