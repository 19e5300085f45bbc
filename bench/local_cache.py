"""The embedded default's cache: per-operation cost, empty and with 20,000 entries.

    python bench/local_cache.py [ENTRIES]

Measures, in one process and one run, the operations every request makes on the
shared cache without REDIS_URL, on the SQLite store (`core.local_cache.LocalCache`)
and on the floor to beat, the FileBasedCache it replaces (django-prometheus' one, as
configured before): the rate-limit count (`api.throttling.increment`, the real code
path), `incr` of an existing counter, and `get_many` of a namespace version and an
answer (the fast path's read). Each backend is measured on an empty store and on one
holding ENTRIES (default 20,000) live entries; MAX_ENTRIES is set above that so
neither culls them away during the run. Each figure is the median of 5 rounds of
~0.3 s; ratios are file cache ÷ SQLite store (how many times cheaper) and, per
backend, full ÷ empty (how the cost grows with the entries). The stores live in a
temporary directory removed at the end. The load average is printed before and
after: the machine may be shared.
"""

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import caches  # noqa: E402
from django.test import override_settings  # noqa: E402

from api import throttling  # noqa: E402

ROUNDS = 5
ROUND_SECONDS = 0.3
BACKENDS = {
    "file cache": "django_prometheus.cache.backends.filebased.FileBasedCache",
    "sqlite store": "core.local_cache.LocalCache",
}


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def per_op(operation: Callable[[int], object]) -> float:
    """Median seconds per call over ROUNDS rounds of about ROUND_SECONDS each."""
    rounds = []
    n = 0
    for _ in range(ROUNDS):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < ROUND_SECONDS or calls < 5:
            operation(n)
            n += 1
            calls += 1
        rounds.append((time.perf_counter() - start) / calls)
    return statistics.median(rounds)


def fill(backend, entries: int) -> None:  # type: ignore[no-untyped-def]
    """ENTRIES live entries of ~200 bytes. The file cache's are written as files
    directly: through its set(), which lists the directory each time, filling would
    itself take minutes."""
    value = {"body": b"x" * 200}
    if hasattr(backend, "_key_to_file"):
        for n in range(entries):
            with open(backend._key_to_file(f"fill:{n}"), "wb") as f:
                backend._write_content(f, 3600, value)
        return
    batch = 1000
    for start in range(0, entries, batch):
        end = min(start + batch, entries)
        backend.set_many({f"fill:{n}": value for n in range(start, end)}, 3600)


def measure(path: str, entries: int) -> dict[str, dict[str, float]]:
    """Seconds per operation for each backend, on a store of `entries` entries."""
    figures: dict[str, dict[str, float]] = {}
    for name, dotted in BACKENDS.items():
        location = os.path.join(path, f"{name.replace(' ', '-')}-{entries}")
        config = {
            "default": {
                "BACKEND": dotted,
                "LOCATION": location,
                "KEY_PREFIX": "af",
                "OPTIONS": {"MAX_ENTRIES": entries + 5000},
            }
        }
        with override_settings(CACHES=config):
            backend = caches["default"]
            fill(backend, entries)
            figures[name] = operations(backend)
    return figures


def operations(backend) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds per call of what a request does with the default cache."""
    backend.set("version", "v1", None)
    backend.set("answer", {"body": b"y" * 2000}, 3600)
    backend.set("counter", 1, None)  # django-prometheus' file cache reads 0 as None
    return {
        "rate-limit count": per_op(
            lambda n: throttling.increment(f"throttle:anon:10.0.{n % 50}:1")
        ),
        "incr": per_op(lambda n: backend.incr("counter")),
        "get_many (2 keys)": per_op(lambda n: backend.get_many(["version", "answer"])),
    }


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(f"load average before: {loadavg()}")
    with tempfile.TemporaryDirectory() as path:
        empty, full = measure(path, 0), measure(path, entries)
    print(f"load average after:  {loadavg()}\n")
    print(
        "| operation | entries | file cache (floor) µs | sqlite store µs"
        " | floor ÷ store |\n|---|---:|---:|---:|---:|"
    )
    for figures, count in ((empty, 0), (full, entries)):
        for op in figures["file cache"]:
            floor, store = figures["file cache"][op], figures["sqlite store"][op]
            print(
                f"| {op} | {count:,} | {floor * 1e6:,.0f} | {store * 1e6:,.0f}"
                f" | {floor / store:.1f}× |"
            )
    print(f"\n| operation | file cache {entries:,} ÷ 0 | store {entries:,} ÷ 0 |")
    print("|---|---:|---:|")
    for op in empty["file cache"]:
        growth = [full[name][op] / empty[name][op] for name in BACKENDS]
        print(f"| {op} | {growth[0]:.2f}× | {growth[1]:.2f}× |")


if __name__ == "__main__":
    main()
