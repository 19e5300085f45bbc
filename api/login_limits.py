"""Limits on password guessing, for the token endpoint and the admin login alike.

Two counters in the shared cache, so they hold across workers and servers:
- attempts per client address and calendar minute (every attempt counts, right or
  wrong): past LOGIN_RATE_LIMIT_PER_MINUTE the address gets 429 until the minute ends;
- failures in a row per username, kept LOGIN_LOCKOUT_SECONDS after the last one
  (each failure refreshes the counter's expiry, on every cache backend: see
  throttling.increment): at LOGIN_MAX_FAILURES every attempt for that username gets
  429, whatever the password and whichever address it comes from, until they
  expire; a success resets them. A refused attempt is not a failure: it does not
  extend the lockout.

The username counter exists for names that match no account too, and the answers
are the same either way, so the limits tell nobody which usernames exist. When the
cache is down the limits fail open, as the API's rate limits do (README).
"""

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django_redis.cache import RedisCache

from api import throttling
from api.cache_breaker import cache_available, cache_failed
from core.local_cache import LocalCache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused before the password is checked."""

    detail: str
    retry_after: int


def failures_key(username: str) -> str:
    # Hashed: a username is arbitrary text and must not shape the cache key.
    digest = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()
    return f"login:failures:{digest[:32]}"


def _failures(key: str) -> tuple[int, int]:
    """Failures stored under `key` and the seconds they still live (on a backend
    that cannot tell, the whole lockout: an upper bound)."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    lockout = settings.LOGIN_LOCKOUT_SECONDS
    if isinstance(cache, RedisCache):
        client = cache.client.get_client(write=False)
        name = cache.client.make_key(key)
        pipeline = client.pipeline(transaction=False)
        pipeline.get(name)
        pipeline.ttl(name)
        value, ttl = pipeline.execute()
        return int(value or 0), ttl if ttl and ttl > 0 else lockout
    if isinstance(cache, LocalCache):
        left = cache.ttl(key)
        value = cache.get(key) if left is not None else None
        return int(value or 0), math.ceil(left) if left is not None else lockout
    return int(cache.get(key) or 0), lockout


def login_refusal(
    *, client_ip: str, username: str, meta: dict[str, Any] | None = None
) -> Refusal | None:
    """Count this attempt and say why it is refused, or None to check the password.
    The address's quota is left in `meta` (the request's) for the RateLimit headers."""
    if not cache_available():
        return None
    try:
        window, left = throttling.minute_window(throttling.clock())
        attempts = throttling.increment(f"login:ip:{client_ip}:{window}")
        if meta is not None:
            throttling.quota_record(
                meta, "login", settings.LOGIN_RATE_LIMIT_PER_MINUTE, attempts, left
            )
        if attempts > settings.LOGIN_RATE_LIMIT_PER_MINUTE:
            return Refusal(
                "Too many login attempts from this address; wait a minute.",
                max(1, int(left + 0.999)),
            )
        failures, ttl = _failures(failures_key(username))
    except Exception:
        cache_failed()
        logger.warning("login limits not enforced: cache unavailable", exc_info=True)
        return None
    if failures >= settings.LOGIN_MAX_FAILURES:
        return Refusal(
            "Too many failed logins for this username; try again later.", max(1, ttl)
        )
    return None


def login_failed(*, username: str) -> None:
    """One more failure in a row for this username."""
    throttling.count(failures_key(username), settings.LOGIN_LOCKOUT_SECONDS)


def login_succeeded(*, username: str) -> None:
    """A success ends the username's run of failures."""
    if not cache_available():
        return
    try:
        caches[DEFAULT_CACHE_ALIAS].delete(failures_key(username))
    except Exception:
        cache_failed()
        logger.warning("login failures not reset: cache unavailable", exc_info=True)
