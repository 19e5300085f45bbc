"""The operations benchmark: response cache, rate limit, compression and monitoring.

    .venv/bin/python bench/operations.py [--quick] [--no-write] [--only PART ...]

Same machinery as bench/run.py (throw-away PostgreSQL and Redis, gunicorn with
./gunicorn.conf.py and DEBUG off, wrk in another process, everything on 127.0.0.1),
a smaller data set (the cache's figures do not depend on the table's size):

1. Cached 100-signal list at 64 connections: the production server (2 workers)
   against the floor serving the same bytes from Redis (bench/floor_app.py), and
   against the same server without the monitoring layer
   (bench/settings_unmonitored.py); rounds alternate, the best of each is kept.
2. Cache hit rate of a mixed read scenario (lists, details of recent signals,
   feeds, stats) with a write every 5 s invalidating everything, counted by the
   server's own /api/metrics from a cold cache.
3. Rate limit: 50 concurrent clients from one IP against 4 workers at
   RATE_LIMIT_PER_MINUTE=60, admitted requests counted per calendar minute.
4. Compression of the 500-signal list: sizes, and p50 with and without
   `Accept-Encoding: br` (cache off, so every request compresses; and cache on).

Writes the "## Operations benchmark (bench/operations.py)" section of BENCHMARKS.md and
its rows of BENCHMARKS.json.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report_operations as ops_report  # noqa: E402
from bench.data import prepare_database  # noqa: E402
from bench.operations_parts import PARTS, OperationsParts, Plan  # noqa: E402
from bench.report import machine, write_results, write_section  # noqa: E402
from bench.report_operations import HEADING  # noqa: E402
from bench.scenarios import Scale  # noqa: E402
from bench.servers import ROOT, Harness, load_average, run_with_deadline  # noqa: E402

FULL = Plan(Scale(100_000, 200, 1_000, 20, 60, 0, 0, 3, 0, 0, 45), 3, 20, 60, 2)
QUICK = Plan(Scale(20_000, 200, 100, 4, 8, 0, 0, 1, 0, 0, 20), 1, 5, 15, 1)


class Operations:
    def __init__(self, plan: Plan, quick: bool) -> None:
        self.harness = Harness()
        self.plan = plan
        self.quick = quick
        self.only = PARTS

    def execute(self, write: bool, skip_servers: bool = True) -> str:
        """Run the parts in self.only (all by default), in PARTS' order."""
        harness, plan = self.harness, self.plan
        harness.check_prerequisites()
        before = load_average()
        harness.services_start()
        data = prepare_database(
            harness.db_url,
            signals=plan.scale.signals,
            candles=plan.scale.candles,
            journal=plan.scale.journal,
            log=harness.log,
        )
        lines, rows = self.run_parts(OperationsParts(harness, data, plan))
        machine_lines = machine(
            harness.redis_url, data.versions["PostgreSQL"], before, load_average()
        )
        started = harness.started
        header = ops_report.header(started, machine_lines, plan.scale.signals)
        text = "\n".join(header + lines)
        print("\n" + text)
        if write:
            write_section(ROOT / "BENCHMARKS.md", text, HEADING)
            write_results(ROOT / "BENCHMARKS.json", HEADING, rows)
            harness.log("BENCHMARKS.md and BENCHMARKS.json updated")
        return text

    def run_parts(self, parts: OperationsParts) -> tuple[list[str], list[dict]]:
        """The section's lines and BENCHMARKS.json rows of each part run."""
        plan = self.plan
        lines: list[str] = []
        rows: list[dict] = []
        if "cached_list" in self.only:
            cached = parts.cached_list()
            lines += ops_report.cached_list_lines(cached, plan)
            rows += ops_report.cached_list_rows(cached)
        if "mixed_hit_rate" in self.only:
            phases = parts.mixed_hit_rate()
            lines += ops_report.hit_rate_lines(phases, plan)
            rows += ops_report.hit_rate_rows(phases)
        if "rate_limit" in self.only:
            first, outcomes = parts.rate_limit()
            counted = ops_report.minutes_counted(first, plan.limit_minutes, outcomes)
            lines += ops_report.rate_limit_lines(counted, plan)
            rows += ops_report.rate_limit_rows(counted)
        if "compression" in self.only:
            compression = parts.compression()
            lines += ops_report.compression_lines(compression, plan)
            rows += ops_report.compression_rows(compression)
        return lines, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and short")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md")
    parser.add_argument(
        "--only", nargs="+", choices=PARTS, help="these parts (implies --no-write)"
    )
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    bench = Operations(plan, args.quick)
    bench.only = tuple(args.only or PARTS)

    run_with_deadline(bench, plan.scale.minutes, write=not (args.no_write or args.only))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
