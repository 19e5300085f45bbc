"""A short circuit breaker for the shared cache, per process.

When a cache operation fails (Redis down, or hanging until the socket timeout), the
response cache and the rate limit stop asking the cache for BREAK_SECONDS: a request
then costs at most one timeout per process in that window instead of one per cache
operation, and the API answers from the database (the rate limit fails open).
"""

import threading
import time

BREAK_SECONDS = 5.0
_lock = threading.Lock()
_down_until = 0.0


def cache_available() -> bool:
    return time.monotonic() >= _down_until


def cache_failed() -> None:
    global _down_until
    with _lock:
        _down_until = time.monotonic() + BREAK_SECONDS


def cache_reset() -> None:
    """Close the breaker (tests that switch caches)."""
    global _down_until
    with _lock:
        _down_until = 0.0
