"""The targets the HTTP benchmark's rows are held to, and whether a run met them.

Each target is stated on a figure the run measured: a ratio to the floor of the
same run, a latency, or (for the write stream) a ratio to the same load without
writes. A row whose figure is missing is "not measured", never "met".
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    text: str
    check: Callable[[dict[str, Any]], bool | None]


def _ratio_at_least(value: float) -> Target:
    return Target(f"≥ {value}× the floor", lambda f: _ge(f.get("ratio"), value))


def _p50_at_most(ms: float) -> Target:
    return Target(f"p50 ≤ {ms:g} ms", lambda f: _le(f.get("p50_ms"), ms))


def _ge(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def _le(value: float | None, bound: float) -> bool | None:
    return None if value is None else value <= bound


def _cached_list(f: dict[str, Any]) -> bool | None:
    ratio, p99, floor_p99 = f.get("ratio"), f.get("p99_ms"), f.get("floor_p99_ms")
    if ratio is None or p99 is None or floor_p99 is None:
        return None
    return ratio >= 0.9 and p99 <= 2 * floor_p99


def _mixed_writes(f: dict[str, Any]) -> bool | None:
    ratio, hit_rate = f.get("ratio"), f.get("hit_rate")
    if ratio is None or hit_rate is None:
        return None
    return ratio >= 0.7 and hit_rate >= 0.85


def _cached_list_creates(f: dict[str, Any]) -> bool | None:
    ratio, misses = f.get("ratio"), f.get("misses_per_invalidation")
    if ratio is None or misses is None:
        return None
    return ratio >= 0.8 and misses <= 1.2


# Endpoint scenarios (bench/endpoints.py keys) and single requests.
TARGETS: dict[str, Target] = {
    "list100": _ratio_at_least(0.9),
    "list100_cached": Target("≥ 0.9× the floor, p99 ≤ 2× the floor's", _cached_list),
    "list100_cached_creates": Target(
        "≥ 0.8× the same load without writes, ≤ 1.2 misses per invalidation",
        _cached_list_creates,
    ),
    "list500": _ratio_at_least(0.7),
    "feed_deep": _ratio_at_least(0.8),
    "detail": _ratio_at_least(0.34),
    "detail_cached": Target(
        "≥ 1.0× the floor's uncached detail", lambda f: _ge(f.get("ratio"), 1.0)
    ),
    "stats_pair": _p50_at_most(50),
    "stats_all": _p50_at_most(50),
    "journal_stats": _p50_at_most(50),
    "mixed_writes": Target(
        "≥ 0.7× the same load without writes, cache hit rate ≥ 85 %", _mixed_writes
    ),
    "bulk_create": Target(
        "≤ 1.5× the COPY floor's time", lambda f: _ge(f.get("ratio"), 1 / 1.5)
    ),
}


def judged(key: str, measured: dict[str, Any]) -> tuple[str | None, bool | None]:
    """The target of a row and whether it was met (None: no target, or no figure)."""
    target = TARGETS.get(key)
    if target is None:
        return None, None
    return target.text, target.check(measured)
