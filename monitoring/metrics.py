"""Request figures shared by every server worker, through prometheus_client.

With PROMETHEUS_MULTIPROC_DIR set (the production server sets it) each worker
writes its samples to files in that directory and any worker can read all of
them, so /api/metrics and /metrics count the requests of every worker. Without
it (runserver, tests) the figures are the serving process's own.
"""

import os
from typing import Any

import psutil
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, multiprocess

# Fine buckets below 100 ms: that is where the API's answers fall, and p95 is read
# off the buckets.
DURATION_BUCKETS = (
    0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
    0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
REQUEST_DURATION = Histogram(
    "alphaforge_request_duration_seconds",
    "Time to answer a request, by method and route.",
    ["method", "route"],
    buckets=DURATION_BUCKETS,
)
_process = psutil.Process()


def registry() -> CollectorRegistry:
    """Every worker's samples in multiprocess mode, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return merged
    return REGISTRY


def _quantile(buckets: list[tuple[float, float]], count: float, q: float) -> float:
    """Linear interpolation inside the bucket holding the q-th request."""
    rank, lower, below = q * count, 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            if upper == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 0)
        lower, below = upper, cumulative
    return lower


def _samples(source: CollectorRegistry, *names: str) -> list[Any]:
    return [
        sample
        for family in source.collect()
        for sample in family.samples
        if sample.name in names
    ]


def performance(source: CollectorRegistry) -> dict[str, dict[str, float]]:
    """Per route: total requests, average and p95 duration in milliseconds."""
    routes: dict[str, dict[str, Any]] = {}
    for sample in _samples(
        source,
        "alphaforge_request_duration_seconds_bucket",
        "alphaforge_request_duration_seconds_sum",
        "alphaforge_request_duration_seconds_count",
    ):
        key = f"{sample.labels['method']} {sample.labels['route']}"
        route = routes.setdefault(key, {"buckets": {}, "sum": 0.0, "count": 0.0})
        if sample.name.endswith("_bucket"):
            upper = float(sample.labels["le"])
            route["buckets"][upper] = route["buckets"].get(upper, 0.0) + sample.value
        elif sample.name.endswith("_sum"):
            route["sum"] += sample.value
        else:
            route["count"] += sample.value
    figures = {}
    for key, route in sorted(routes.items()):
        count = route["count"]
        if not count:
            continue
        buckets = sorted(route["buckets"].items())
        figures[key] = {
            "total_requests": int(count),
            "avg_duration_ms": round(route["sum"] / count * 1000, 3),
            "p95_duration_ms": round(_quantile(buckets, count, 0.95) * 1000, 3),
        }
    return figures


def cache_figures(source: CollectorRegistry) -> dict[str, Any]:
    """Hits and misses of the response cache. An answer a reader waited for while
    another request computed it ("shared", api/caching.py) is a hit to that reader."""
    totals = {"hit": 0.0, "miss": 0.0}
    for sample in _samples(source, "alphaforge_response_cache_total"):
        result = (
            "hit" if sample.labels["result"] == "shared" else sample.labels["result"]
        )
        totals[result] += sample.value
    lookups = totals["hit"] + totals["miss"]
    return {
        "hits": int(totals["hit"]),
        "misses": int(totals["miss"]),
        "hit_rate": totals["hit"] / lookups if lookups else None,
    }


def system_figures() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "cpu_count": psutil.cpu_count(),
        "memory_total_bytes": memory.total,
        "memory_available_bytes": memory.available,
        "memory_percent": memory.percent,
        "process_rss_bytes": _process.memory_info().rss,
        "process_id": _process.pid,
    }


def metrics_snapshot() -> dict[str, Any]:
    source = registry()
    return {
        "system": system_figures(),
        "cache": cache_figures(source),
        "performance": performance(source),
    }
