"""Server CPU of one uncached request, measured in-process: no HTTP server, no client.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/request_cpu.py [--n 300]
        [--only list100,list500,detail,feed] [--profile SCENARIO]
        [--without Session auth.middleware ...]

Runs the production WSGI application (alphaforge.wsgi, DEBUG off, ENABLE_CACHE off)
in a call loop over the benchmark's uncached read scenarios against an existing,
migrated database holding signals (bench/dataset.py), and prints the CPU time of this
process per request (time.process_time: the database's own work is not in it) and
the wall time. `--profile` prints a CPU-time cProfile of one scenario (SORT=tottime
to sort by own time); `--without` leaves out the middleware whose path contains one
of the words (to see what they cost). For deciding, not for publishing: bench/run.py
is the benchmark.
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _environ(path: str) -> dict[str, Any]:
    route, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "HTTP_ACCEPT_ENCODING": "gzip, br",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }


def _call(application: Any, path: str) -> int:
    status: list[str] = []
    body = application(_environ(path), lambda s, h, *a: status.append(s))
    b"".join(body)
    if hasattr(body, "close"):
        body.close()
    return int(status[0].split()[0])


def _paths(scenario: str, ids: tuple[int, int], pairs: list[str]) -> list[str]:
    rng = random.Random(7)
    if scenario == "list100":
        return [
            f"/api/signals/?pair={p}&status={s}&page_size=100"
            for p in pairs
            for s in ("active", "closed", "expired")
        ]
    if scenario == "list500":
        return [f"/api/signals/?pair={p}&page_size=500" for p in pairs]
    if scenario == "feed":
        return [f"/api/signals/feed/?pair={p}&page_size=100" for p in pairs]
    return [f"/api/signals/{rng.randint(*ids)}/" for _ in range(500)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--profile")
    parser.add_argument(
        "--without", nargs="*", help="leave out middleware whose path contains these"
    )
    parser.add_argument("--only", help="comma-separated scenarios, no profile")
    args = parser.parse_args()
    os.environ.update(
        DEBUG="false",
        SECRET_KEY="bench-only-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        ENABLE_CACHE="false",
        RATE_LIMIT_PER_MINUTE="100000000",
        MAX_PAGE_SIZE="500",
        LOG_LEVEL="WARNING",
        SLOW_REQUEST_MS="100000",
        DJANGO_SETTINGS_MODULE="alphaforge.settings",
    )
    import django

    django.setup()
    if args.without:
        from django.conf import settings

        settings.MIDDLEWARE = [
            m for m in settings.MIDDLEWARE if not any(w in m for w in args.without)
        ]
    from alphaforge.wsgi import application
    from signals.models import Signal

    ids = (
        Signal.objects.order_by("id").values_list("id", flat=True).first() or 1,
        Signal.objects.order_by("-id").values_list("id", flat=True).first() or 1,
    )
    pairs = sorted(Signal.objects.values_list("pair", flat=True).distinct())
    scenarios = [args.profile] if args.profile else ["list100", "list500", "detail"]
    scenarios = args.only.split(",") if args.only else scenarios
    for scenario in scenarios:
        paths = _paths(scenario, ids, pairs)
        for path in paths[:20]:  # warm-up: connections, URL resolver, imports
            assert _call(application, path) in (200, 404), path
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for number in range(args.n):
            _call(application, paths[number % len(paths)])
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"{scenario:8s} cpu {cpu / args.n * 1000:6.3f} ms/request, "
            f"wall {wall / args.n * 1000:6.3f} ms/request"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats(
                os.environ.get("SORT", "cumulative")
            ).print_stats(45)
    with open("/proc/loadavg") as handle:
        print("load average:", handle.read().strip())


if __name__ == "__main__":
    main()
