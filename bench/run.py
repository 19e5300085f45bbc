"""The HTTP benchmark of AlphaForge, in one command:

    .venv/bin/python bench/run.py [--quick] [--skip-servers] [--no-write]

1. Starts throw-away PostgreSQL and Redis (scripts/services.sh, ports 55480/56430),
   migrates, and loads the data set with set-based SQL (bench/dataset.py): 1,000,000
   signals over 30 pairs, 2,000 hourly candles a pair, 100,000 journal entries of one
   user; then VACUUM ANALYZE.
2. Server comparison: the same two endpoints under gunicorn gthread, gunicorn sync,
   granian WSGI, gunicorn + UvicornWorker (ASGI) and granian ASGI, 2 workers each.
3. Starts the production server (gunicorn with ./gunicorn.conf.py, 2 workers, DEBUG
   off) and the FLOOR (bench/floor_app.py: the same SQL through a bare psycopg pool
   and orjson, same server and workers) and drives them with wrk in another process,
   scenario by scenario, each app row followed at once by its floor row. Bulk create
   and fresh generation are timed as single requests. pg_stat_activity is sampled
   throughout.
4. Writes the tables to BENCHMARKS.md under "## HTTP benchmark (bench/run.py)" (other
   sections are kept) and their rows to BENCHMARKS.json (other scripts' rows are
   kept), and prints them.

Everything listens on 127.0.0.1 only. Servers, PostgreSQL and Redis are stopped at the
end, on failure and on Ctrl-C; the whole run has a deadline (--max-minutes).
`--quick` shrinks the data and the durations for development (its numbers are not the
ones to publish).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.capture import django_setup  # noqa: E402
from bench.data import prepare_database  # noqa: E402
from bench.endpoints import floor_spec_record, scenarios_build  # noqa: E402
from bench.http_phases import HttpPhases  # noqa: E402
from bench.report import machine, write_results, write_section  # noqa: E402
from bench.report_http import HEADING, HttpResults, http_report, http_rows  # noqa: E402
from bench.scenarios import Scale  # noqa: E402
from bench.servers import (  # noqa: E402
    FLOOR_NAME,
    FLOOR_PORT,
    GUNICORN,
    HOST,
    PG_PORT,
    REDIS_PORT,
    ROOT,
    Harness,
    load_average,
    run_with_deadline,
)

ONLY_HEADING = "## HTTP benchmark, selected rows (bench/run.py --only)"
FULL = Scale(1_000_000, 2_000, 100_000, 20, 60, 15, 3, 3, 3, 10_000, 60)
QUICK = Scale(100_000, 1_000, 10_000, 4, 8, 4, 1, 1, 1, 10_000, 20)


class HttpBench:
    def __init__(self, scale: Scale, quick: bool, only: list[str] | None) -> None:
        self.harness = Harness()
        self.scale = scale
        self.quick = quick
        self.only = only

    def execute(self, write: bool, skip_servers: bool) -> str:
        harness, scale = self.harness, self.scale
        harness.check_prerequisites()
        load_before = load_average()
        harness.log(f"work directory {harness.workdir}")
        harness.services_start()
        harness.log(f"PostgreSQL on {HOST}:{PG_PORT}, Redis on {HOST}:{REDIS_PORT}")
        data = prepare_database(
            harness.db_url,
            signals=scale.signals,
            candles=scale.candles,
            journal=scale.journal,
            log=harness.log,
        )
        if not django_setup(harness) and not data.journal_missing:
            data.journal_missing = "not measured: journal app missing"
        paths = floor_spec_record(harness, data, scale)
        scenarios = scenarios_build(paths, data, scale)
        if self.only:
            scenarios = [sc for sc in scenarios if sc.key in self.only]
        results = HttpResults(
            scale, self.quick, harness.started, load_seconds=data.load_seconds
        )
        phases = HttpPhases(harness, data, results)
        phases.with_singles = not self.only
        if not (skip_servers or self.only):
            phases.compare_servers({scenario.key: scenario for scenario in scenarios})
        for scenario in scenarios:
            phases.row(scenario)  # the table keeps the order above
        floor_env = harness.server_env(cache=False, app_name=FLOOR_NAME)
        floor_env["BIND"] = f"{HOST}:{FLOOR_PORT}"
        floor = [GUNICORN, "bench.floor_app:application"]
        with harness.server("floor", floor, floor_env, FLOOR_PORT, "/floor/ping"):
            phases.app_phase([sc for sc in scenarios if not sc.cache], cache=False)
            phases.app_phase([sc for sc in scenarios if sc.cache], cache=True)
        lines = machine(
            harness.redis_url, data.versions["PostgreSQL"], load_before, load_average()
        )
        text = http_report(results, lines)
        print("\n" + text)
        heading, rows = HEADING, http_rows(results)
        if self.only:  # a section of its own, beside the full run's
            heading = ONLY_HEADING
            text = text.replace(HEADING, heading, 1).replace(
                "bench/run.py`", f"bench/run.py --only {','.join(self.only)}`", 1
            )
            owner, full = heading.lstrip("# "), HEADING.lstrip("# ")
            rows = [
                {**row, "section": row["section"].replace(full, owner, 1)}
                for row in rows
                if "Database connections" not in row["section"]
            ]
        if write:
            write_section(ROOT / "BENCHMARKS.md", text, heading)
            write_results(ROOT / "BENCHMARKS.json", heading, rows)
            harness.log("BENCHMARKS.md and BENCHMARKS.json updated")
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and short")
    parser.add_argument(
        "--skip-servers", action="store_true", help="no server comparison"
    )
    parser.add_argument(
        "--no-write",
        action="store_true",
        help="print only, leave BENCHMARKS.md and .json",
    )
    parser.add_argument("--max-minutes", type=int, help="deadline of the whole run")
    parser.add_argument(
        "--only",
        help="comma-separated scenario keys (bench/endpoints.py); written under "
        f'"{ONLY_HEADING}", the full run\'s section kept',
    )
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    only = args.only.split(",") if args.only else None
    run_with_deadline(
        HttpBench(scale, args.quick, only),
        args.max_minutes or scale.minutes,
        write=not args.no_write,
        skip_servers=args.skip_servers,
    )


if __name__ == "__main__":
    main()
