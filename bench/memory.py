"""Memory of a web worker and of a generation run, against the targets of issue 13.

    .venv/bin/python bench/memory.py [--python OTHER_PYTHON ...] [--no-write]

For each interpreter (this one, then each --python: e.g. a virtualenv with
requirements.txt only, since the dev requirements add packages DRF imports when they
are installed), on throw-away PostgreSQL and Redis (scripts/services.sh, own ports):
1. import-only: a fresh process loads the WSGI application and every URL with the
   production settings (DEBUG off, PostgreSQL, Redis); its RSS;
2. the production server (gunicorn with ./gunicorn.conf.py, 2 workers, DEBUG off,
   the environment of bench/run.py) on a small data set, each worker's RSS after
   start and after a warm-up of WARMUP requests over every read endpoint kind
   (signal list/detail/feed/stats anonymous and with a token, journal list/stats,
   events, webhooks, health; the schema once); target ≤ 70 MiB per worker;
3. generation: a fresh process set up like a Celery worker (Django, the tasks, the
   generator and numpy imported, its database connection open) runs
   `signals_generate` over the 30 pairs' stored candles; RSS before and after, and
   the peak during the run; target: adds < 10 MiB.
Writes the "## Memory (bench/memory.py)" section of BENCHMARKS.md and its rows of
BENCHMARKS.json. Figures are RSS (psutil / /proc), MiB = 2^20 bytes.
"""

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dataset  # noqa: E402
from bench.data import Data, generated_delete, prepare_database  # noqa: E402
from bench.report import result_row, write_results, write_section  # noqa: E402
from bench.servers import (  # noqa: E402
    HOST,
    ROOT,
    Harness,
    load_average,
    run_with_deadline,
)

HEADING = "## Memory (bench/memory.py)"
SECTION = HEADING.lstrip("#").strip()
PG_PORT, REDIS_PORT = 55490, 56440  # not bench/run.py's: both may run at once
SIGNALS, CANDLES, JOURNAL = 5_000, 500, 500
WARMUP = 600  # requests, spread over both workers by 4 client threads
WORKER_TARGET, GENERATION_TARGET = 70.0, 10.0  # MiB
MINUTES = 20

IMPORT_PROBE = """
import json
import django
django.setup()
from alphaforge.wsgi import application
from django.urls import get_resolver
get_resolver().url_patterns
import psutil
print(json.dumps(psutil.Process().memory_info().rss))
"""

GENERATION_PROBE = """
import json
import django
django.setup()
import signals.tasks  # what a worker holds: the tasks, Celery, the generator, numpy
from django.db import connection
from bench.dataset import PAIR_NAMES
from signals.generation import signals_generate
from signals.models import Signal

def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(fields[k].split()[0]) * 1024 for k in ("VmRSS", "VmHWM")}

connection.ensure_connection()
try:  # reset the peak, so VmHWM is the peak of the run alone
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    pass
before = status()
result = signals_generate(pairs=PAIR_NAMES, timeframe="1h")
after = status()
Signal.objects.filter(pk__in=[s.pk for s in result.generated]).delete()
signals_generate(pairs=PAIR_NAMES, timeframe="1h")  # the same run again
print(json.dumps({
    "before": before["VmRSS"], "after": after["VmRSS"], "peak": after["VmHWM"],
    "second": status()["VmRSS"], "pairs": len(PAIR_NAMES),
    "generated": len(result.generated), "skipped": len(result.skipped),
}))
"""


def mib(value: float) -> float:
    return round(value / 2**20, 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def requirements_label(python: str) -> str:
    """ "dev requirements" where pytest is installed, else "requirements.txt"."""
    found = subprocess.run(
        [
            python,
            "-c",
            "import importlib.util as u; print(bool(u.find_spec('pytest')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return "dev requirements" if found == "True" else "requirements.txt"


def probe(python: str, code: str, env: dict[str, str]) -> Any:
    """What `code` prints as JSON, run by `python` in a fresh process."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "alphaforge.settings"}
    done = subprocess.run(
        [python, "-W", "ignore", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise RuntimeError(f"probe failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def warmup_paths(data: Data) -> list[tuple[str, str | None]]:
    """One round of (path, token): every read endpoint kind."""
    low, high = data.id_range
    trader = data.trader_token
    paths: list[tuple[str, str | None]] = []
    for number, pair in enumerate(dataset.PAIR_NAMES[:10]):
        query = urlencode({"pair": pair, "page_size": 100})
        paths += [
            (f"/api/signals/?{query}", None),
            (f"/api/signals/?{query}&status=expired", trader),
            (f"/api/signals/{low + (number * 977) % (high - low + 1)}/", None),
            (f"/api/signals/feed/?{query}", None),
            (f"/api/signals/stats/?{urlencode({'pair': pair})}", None),
        ]
    paths += [
        ("/api/signals/stats/", trader),
        ("/api/journal/?page_size=50", trader),
        ("/api/journal/stats/", trader),
        ("/api/events/?limit=100", trader),
        ("/api/webhooks/", trader),
        ("/api/health", None),
    ]
    return paths


def warm_up(port: int, data: Data, total: int) -> Counter:
    """`total` requests over warmup_paths() by 4 threads, the schema once; the
    count of each status code."""
    base = warmup_paths(data)
    work = [base[i % len(base)] for i in range(total)]
    work.insert(len(work) // 2, ("/api/schema/", None))
    statuses: Counter = Counter()
    lock = threading.Lock()

    def client(items: list[tuple[str, str | None]]) -> None:
        for path, token in items:
            request = urllib.request.Request(f"http://{HOST}:{port}{path}")
            if token:
                request.add_header("Authorization", f"Token {token}")
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=client, args=(work[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


class Memory:
    def __init__(self, pythons: list[str], extra_env: dict[str, str]) -> None:
        self.harness = Harness(pg_port=PG_PORT, redis_port=REDIS_PORT)
        self.pythons = pythons
        self.extra_env = extra_env

    def server_env(self, python: str) -> dict[str, str]:
        env = self.harness.server_env(cache=True)
        env["PATH"] = f"{Path(python).parent}{os.pathsep}{env.get('PATH', '')}"
        return {**env, **self.extra_env}

    def measure(self, python: str, data: Data) -> dict:
        """The three figures of one interpreter."""
        import psutil

        harness = self.harness
        label = requirements_label(python)
        env = self.server_env(python)
        harness.log(f"{label}: import-only process")
        imported = probe(python, IMPORT_PROBE, env)
        port = free_port()
        env["BIND"] = f"{HOST}:{port}"
        command = [python, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        with harness.server("memory-server", command, env, port, "/api/health") as proc:
            harness.settle(port, floor=False)
            workers = psutil.Process(proc.pid).children()
            started = [w.memory_info().rss for w in workers]
            harness.log(f"{label}: warming up {len(workers)} workers")
            statuses = warm_up(port, data, WARMUP)
            warm = [w.memory_info().rss for w in workers]
        harness.log(f"{label}: generation for {len(dataset.PAIR_NAMES)} pairs")
        generation = probe(python, GENERATION_PROBE, env)
        return {
            "requirements": label,
            "import_only": imported,
            "started": started,
            "warm": warm,
            "statuses": dict(sorted(statuses.items())),
            "generation": generation,
        }

    def execute(self, write: bool) -> str:
        harness = self.harness
        before = load_average()
        harness.services_start()
        data = prepare_database(
            harness.db_url,
            signals=SIGNALS,
            candles=CANDLES,
            journal=JOURNAL,
            log=harness.log,
        )
        measured = []
        for python in self.pythons:
            measured.append(self.measure(python, data))
            generated_delete(harness.db_url)  # each interpreter generates afresh
        text = "\n".join(report_lines(measured, data, before, load_average()))
        print("\n" + text)
        if write:
            write_section(ROOT / "BENCHMARKS.md", text, HEADING)
            write_results(ROOT / "BENCHMARKS.json", HEADING, rows(measured))
            harness.log("BENCHMARKS.md and BENCHMARKS.json updated")
        return text


def report_lines(
    measured: list[dict], data: Data, before: str, after: str
) -> list[str]:
    lines = [
        HEADING,
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by bench/memory.py: "
        f"Python {platform.python_version()}, PostgreSQL "
        f"{data.versions['PostgreSQL']} and Redis (scripts/services.sh), gunicorn "
        f"with ./gunicorn.conf.py (2 gthread workers, DEBUG off, cache on); "
        f"{SIGNALS:,} signals, {CANDLES} hourly candles for each of the 30 pairs, "
        f"{JOURNAL} journal entries. Load average before/after: {before} / "
        f"{after} (a shared machine: other processes ran meanwhile; RSS does not "
        "depend on them much). MiB = 2^20 bytes.",
        "",
        "| requirements | import-only | workers after start | workers after "
        f"{WARMUP} requests | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for m in measured:
        met = "yes" if mib(max(m["warm"])) <= WORKER_TARGET else "no"
        lines.append(
            f"| {m['requirements']} | {mib(m['import_only'])} MiB "
            f"| {' / '.join(str(mib(v)) for v in m['started'])} MiB "
            f"| {' / '.join(str(mib(v)) for v in m['warm'])} MiB "
            f"| ≤ {WORKER_TARGET:.0f} MiB each | {met} |"
        )
    lines += [
        "",
        "Warm-up answers by status: "
        + "; ".join(f"{m['requirements']}: {m['statuses']}" for m in measured)
        + ". Import-only: a fresh process with the WSGI application and every URL "
        "loaded; a worker adds gunicorn, its threads and what requests fill in.",
        "",
        "Generation in a fresh process set up like a Celery worker (tasks, generator "
        "and numpy imported, connection open), `signals_generate` over the 30 pairs:",
        "",
        "| requirements | before | after | peak | added | target | met "
        "| after a second run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measured:
        g = m["generation"]
        added = mib(g["after"] - g["before"])
        lines.append(
            f"| {m['requirements']} | {mib(g['before'])} MiB | {mib(g['after'])} MiB "
            f"| {mib(g['peak'])} MiB | {added} MiB ({g['generated']} generated, "
            f"{g['skipped']} skipped) | < {GENERATION_TARGET:.0f} MiB | "
            f"{'yes' if added < GENERATION_TARGET else 'no'} "
            f"| {mib(g['second'])} MiB |"
        )
    lines += [
        "",
        "The first run in a fresh process also loads what its commit uses: the "
        "Redis cache client (cache versions) and the channel layer (the event "
        "wake-up); a worker that has run any task holds them already. The second "
        "run (its signals deleted in between) shows where a worker settles.",
    ]
    return lines


def rows(measured: list[dict]) -> list[dict]:
    out = []
    for m in measured:
        label = m["requirements"]
        warm = mib(max(m["warm"]))
        worker = {
            "import_only_mib": mib(m["import_only"]),
            "started_mib": [mib(v) for v in m["started"]],
            "warm_mib": [mib(v) for v in m["warm"]],
            "requests": WARMUP,
        }
        out.append(
            result_row(
                SECTION,
                f"web worker RSS after warm-up ({label})",
                worker,
                target=f"<= {WORKER_TARGET:.0f} MiB per worker",
                met=warm <= WORKER_TARGET,
            )
        )
        g = m["generation"]
        added = mib(g["after"] - g["before"])
        generation = {
            "before_mib": mib(g["before"]),
            "after_mib": mib(g["after"]),
            "peak_mib": mib(g["peak"]),
            "after_second_run_mib": mib(g["second"]),
            "added_mib": added,
            "pairs": g["pairs"],
            "generated": g["generated"],
        }
        out.append(
            result_row(
                SECTION,
                f"generation of 30 pairs ({label})",
                generation,
                target=f"< {GENERATION_TARGET:.0f} MiB added",
                met=added < GENERATION_TARGET,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        help="another interpreter to measure (its virtualenv's packages)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set in the server's environment (implies --no-write)",
    )
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md")
    args = parser.parse_args()
    extra_env = dict(item.split("=", 1) for item in args.env)
    bench = Memory([sys.executable, *args.python], extra_env)
    write = not (args.no_write or extra_env)
    run_with_deadline(bench, MINUTES, write=write)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
