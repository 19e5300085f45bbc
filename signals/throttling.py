"""Rate limits counted atomically in the shared cache, so they hold across workers.

DRF's SimpleRateThrottle reads a list of timestamps and writes it back, which
over-admits when several workers race. Here each client gets one counter per
calendar minute, bumped with the cache's atomic increment (INCR on Redis): the
n-th request of a minute is admitted when n <= the limit, whichever worker
serves it. When the cache is down the limit fails open: the API keeps
answering from the database rather than refusing everyone (see README).
"""

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
clock = time.time  # tests pin it


def client_ip(request: Request) -> str:
    """REMOTE_ADDR, or the address the nearest of NUM_PROXIES trusted proxies saw.

    Each proxy appends the peer it saw to X-Forwarded-For, so with N trusted proxies
    the client is the N-th entry from the right; anything left of it is the
    client's own claim and is ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    return hops[-min(proxies, len(hops))] or remote


class MinuteRateThrottle(BaseThrottle):
    scope = ""

    def limit(self) -> int:
        raise NotImplementedError

    def client_key(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        ident = self.client_key(request)
        if ident is None:
            return True
        now = clock()
        window = int(now // WINDOW_SECONDS)
        self.wait_seconds = (window + 1) * WINDOW_SECONDS - now
        key = f"throttle:{self.scope}:{ident}:{window}"
        try:
            cache.add(key, 0, WINDOW_SECONDS + 5)
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: start this window again
            cache.set(key, 1, WINDOW_SECONDS + 5)
            count = 1
        except Exception:
            logger.warning("rate limit not enforced: cache unavailable", exc_info=True)
            return True
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
        return client_ip(request)


class UserMinuteThrottle(MinuteRateThrottle):
    """Authenticated users, by user id."""

    scope = "user"

    def limit(self) -> int:
        return settings.RATE_LIMIT_USER_PER_MINUTE

    def client_key(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return str(request.user.pk)
        return None
