"""Rate limits counted atomically in the shared cache, so they hold across workers.

DRF's SimpleRateThrottle reads a list of timestamps and writes it back, which
over-admits when several workers race. Here each client gets one counter per
calendar minute, bumped with the cache's atomic increment (INCR on Redis): the
n-th request of a minute is admitted when n <= the limit, whichever worker
serves it. When the cache is down the limit fails open: the API keeps
answering from the database rather than refusing everyone (see README).
"""

import logging
import math
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.http import HttpRequest, HttpResponse
from django_redis.cache import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from core.local_cache import LocalCache

from .cache_breaker import cache_available, cache_failed

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
EXPIRY = WINDOW_SECONDS + 5  # a counter outlives its minute a little
# Where the response cache's WSGI fast path leaves the count it took
# (api/fast_path.py): an int, or None when the cache could not be reached.
COUNT_ENVIRON = "alphaforge.anonymous_throttle_count"
clock = time.time  # tests pin it
# Where a limit leaves this request's Quota, for RateLimitHeadersMiddleware.
QUOTA_ENVIRON = "alphaforge.ratelimit"


@dataclass(frozen=True)
class Quota:
    """A limit as the IETF httpapi RateLimit headers state it: policy name, quota,
    window (seconds), what is left of the quota and seconds until it resets."""

    policy: str
    limit: int
    window: int
    remaining: int
    reset: int

    def headers(self) -> list[tuple[str, str]]:
        name = f'"{self.policy}"'
        return [
            ("RateLimit-Policy", f"{name};q={self.limit};w={self.window}"),
            ("RateLimit", f"{name};r={self.remaining};t={self.reset}"),
        ]


def quota_record(
    meta: MutableMapping[str, Any], policy: str, limit: int, used: int, left: float
) -> None:
    """Leave this request's quota where the headers middleware finds it; with
    several limits on one request the one with the least left is reported."""
    quota = Quota(policy, limit, WINDOW_SECONDS, max(0, limit - used), math.ceil(left))
    known = meta.get(QUOTA_ENVIRON)
    if known is None or quota.remaining < known.remaining:
        meta[QUOTA_ENVIRON] = quota


class RateLimitHeadersMiddleware:
    """`RateLimit-Policy` and `RateLimit` on every answer a limit counted."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        quota = request.META.get(QUOTA_ENVIRON)
        if quota is not None:
            for name, value in quota.headers():
                response[name] = value
        return response


def client_ip(meta: Mapping[str, Any]) -> str:
    """REMOTE_ADDR, or the address the nearest of NUM_PROXIES trusted proxies saw.

    Each proxy appends the peer it saw to X-Forwarded-For, so with N trusted proxies
    the client is the N-th entry from the right; anything left of it is the
    client's own claim and is ignored.
    """
    remote = meta.get("REMOTE_ADDR", "")
    proxies = settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-min(proxies, len(hops))] or remote


def minute_window(now: float) -> tuple[int, float]:
    """The calendar minute of `now` and the seconds left in it."""
    window = int(now // WINDOW_SECONDS)
    return window, (window + 1) * WINDOW_SECONDS - now


def increment(key: str, expiry: int = EXPIRY) -> int:
    """Atomically count one more request under `key`, which lives `expiry` seconds
    after its last increment.

    On Redis INCR and EXPIRE go in one pipelined round trip; on the embedded
    default's SQLite store one upsert; other caches add, incr, then touch. On each
    of them the expiry runs from the last increment: the login lockout's lifetime
    (api/login_limits.py) depends on it.
    """
    cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        client = cache.client.get_client(write=True)
        name = cache.client.make_key(key)
        pipeline = client.pipeline(transaction=False)
        pipeline.incr(name)
        pipeline.expire(name, expiry)
        return pipeline.execute()[0]
    if isinstance(cache, LocalCache):
        return cache.count(key, expiry)
    try:
        cache.add(key, 0, expiry)
        value = cache.incr(key)
    except ValueError:  # expired between add and incr: start this window again
        cache.set(key, 1, expiry)
        return 1
    cache.touch(key, expiry)
    return value


def count(key: str, expiry: int = EXPIRY) -> int | None:
    """This request's number under its client's counter; None when the cache is
    down (the limit then fails open)."""
    if not cache_available():
        return None
    try:
        return increment(key, expiry)
    except Exception:
        cache_failed()
        logger.warning("rate limit not enforced: cache unavailable", exc_info=True)
        return None


def _key(scope: str, ident: str, window: int) -> str:
    return f"throttle:{scope}:{ident}:{window}"


def anonymous_key(environ: Mapping[str, Any]) -> tuple[str, int]:
    """The counter AnonMinuteThrottle bumps for this request, and its expiry in
    seconds: for the response cache's WSGI fast path, which counts before DRF."""
    window, _ = minute_window(clock())
    return _key(AnonMinuteThrottle.scope, client_ip(environ), window), EXPIRY


class MinuteRateThrottle(BaseThrottle):
    scope = ""

    def limit(self) -> int:
        raise NotImplementedError

    def client_key(self, request: Request) -> str | None:
        raise NotImplementedError

    def counted(self, request: Request, ident: str) -> int | None:
        window, _ = minute_window(clock())
        return count(_key(self.scope, ident, window))

    def allow_request(self, request: Request, view: Any) -> bool:
        ident = self.client_key(request)
        if ident is None:
            return True
        _, self.wait_seconds = minute_window(clock())
        count = self.counted(request, ident)
        if count is None:
            return True
        quota_record(request.META, self.scope, self.limit(), count, self.wait_seconds)
        return count <= self.limit()

    def wait(self) -> float:
        return max(1.0, self.wait_seconds)


class AnonMinuteThrottle(MinuteRateThrottle):
    """Anonymous clients, by IP (X-Forwarded-For only behind NUM_PROXIES proxies)."""

    scope = "anon"

    def limit(self) -> int:
        return settings.RATE_LIMIT_PER_MINUTE

    def client_key(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return client_ip(request.META)

    def counted(self, request: Request, ident: str) -> int | None:
        """The count the response cache's WSGI fast path took already, if it tried
        (None there: the cache was unreachable, so the limit fails open at once)."""
        if COUNT_ENVIRON in request.META:
            return request.META[COUNT_ENVIRON]
        return super().counted(request, ident)


class UserMinuteThrottle(MinuteRateThrottle):
    """Authenticated users, by user id."""

    scope = "user"

    def limit(self) -> int:
        return settings.RATE_LIMIT_USER_PER_MINUTE

    def client_key(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None
