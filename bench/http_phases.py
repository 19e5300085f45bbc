"""The phases of bench/run.py: the server comparison, each endpoint scenario on the
production server and then on the floor, the single timed requests, and
pg_stat_activity sampled throughout."""

import json
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from bench import dataset
from bench.data import Data, bulk_body, bulk_delete, generated_delete, psql
from bench.endpoints import HOT_IDS
from bench.report import fmt_seconds
from bench.report_http import COMPARE_PROBES, HttpResults, Row, Single
from bench.scenarios import WRK_TIMEOUT, Kind, Result, Scenario, lua_script, run_wrk
from bench.servers import (
    APP_NAME,
    APP_PORT,
    COMPARE_PORT,
    FLOOR_PORT,
    GUNICORN,
    HOST,
    SETUP_NAME,
    Harness,
    get,
    post,
    server_variants,
)
from bench.write_stream import WRITERS, cache_counters, create_stream, write_stream

# Rows measured under a write stream, and the row of the same load without it.
UNDER_WRITES = {"mixed_writes": "mixed_hot", "list100_cached_creates": "list100_cached"}


class HttpPhases:
    def __init__(self, harness: Harness, data: Data, results: HttpResults) -> None:
        self.harness = harness
        self.data = data
        self.results = results
        self.scale = results.scale
        self.with_singles = True  # bulk create and generation, timed once each

    def measure(self, port: int, scenario: Scenario, floor: bool) -> Result:
        """A warm-up, then the scenario's run, then a wait for the server to settle."""
        kinds = scenario.floor_kinds if floor else scenario.kinds
        options = {
            "method": scenario.method,
            "body": scenario.body,
            "token": None if floor else scenario.token,
        }
        workdir, connections = self.harness.workdir, scenario.connections
        warm = max(self.scale.warmup, 1)
        run_wrk(workdir, port, kinds, connections=connections, duration=warm, **options)
        result = run_wrk(
            workdir,
            port,
            kinds,
            connections=connections,
            duration=scenario.duration,
            **options,
        )
        self.harness.settle(port, floor)
        who = "floor" if floor else "app"
        self.harness.log(
            f"  {who:5} {scenario.key:20} {result.rps:9.1f} req/s  "
            f"p50 {result.p50_ms:8.2f} ms  p99 {result.p99_ms:8.2f} ms  "
            f"errors {result.errors}"
        )
        return result

    @contextmanager
    def pg_watch(self) -> Iterator[None]:
        """Sample pg_stat_activity every 0.25 s while the block runs."""
        stop = threading.Event()
        pg = self.results.pg

        def sample() -> None:
            with psql(self.harness.db_url) as conn:
                while not stop.is_set():
                    web, active, app_user = conn.execute(
                        """
                        SELECT count(*) FILTER (WHERE application_name = %s),
                               count(*) FILTER (WHERE application_name = %s
                                                  AND state = 'active'),
                               count(*) FILTER (WHERE application_name <> %s)
                        FROM pg_stat_activity
                        WHERE usename = 'app' AND backend_type = 'client backend'
                        """,
                        [APP_NAME, APP_NAME, SETUP_NAME],
                    ).fetchone()
                    pg.web_max = max(pg.web_max, web)
                    pg.web_active_max = max(pg.web_active_max, active)
                    pg.app_user_max = max(pg.app_user_max, app_user)
                    stop.wait(0.25)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def web_connections(self) -> dict[str, int]:
        with psql(self.harness.db_url) as conn:
            rows = conn.execute(
                "SELECT coalesce(state, '?'), count(*) FROM pg_stat_activity "
                "WHERE usename = 'app' AND application_name = %s "
                "AND backend_type = 'client backend' GROUP BY 1",
                [APP_NAME],
            ).fetchall()
        return dict(rows)

    # -- the server comparison

    def compare_servers(self, scenarios: dict[str, Scenario]) -> None:
        self.harness.log("server comparison (2 workers each)")
        variants = server_variants()
        best: dict[str, dict[str, Result]] = {v[1]: {} for v in variants}
        for round_ in range(self.scale.rounds):
            # Alternate the order so that no server always runs in the same slot.
            order = list(enumerate(variants))
            if round_ % 2:
                order.reverse()
            for number, (label, name, command, extra) in order:
                try:
                    self.compare_one(
                        number, round_, name, command, extra, scenarios, best[name]
                    )
                except RuntimeError as error:
                    self.results.notes.append(f"{label}: failed to run ({error})")
        for label, name, *_ in variants:
            self.results.comparison.append((label, name, best[name]))

    def compare_one(
        self,
        number: int,
        round_: int,
        name: str,
        command: list[str],
        extra: dict[str, str],
        scenarios: dict[str, Scenario],
        best: dict[str, Result],
    ) -> None:
        """One server variant, one round: each probe, the best result kept."""
        port = COMPARE_PORT + number
        env = self.harness.server_env(cache=False)
        env.update(BIND=f"{HOST}:{port}", **extra)
        if name in ("gthread", "sync"):
            env["WEB_WORKER_CLASS"] = name
        if name.startswith("granian"):
            directory = self.harness.workdir / f"metrics-{name}-{round_}"
            directory.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        command = [part.replace("{port}", str(port)) for part in command]
        with self.harness.server(name, command, env, port, "/api/health"):
            for key in COMPARE_PROBES:
                result = self.compare_probe(port, name, key, scenarios)
                current = best.get(key)
                if current is None or result.rps > current.rps:
                    best[key] = result

    def compare_probe(
        self, port: int, name: str, key: str, scenarios: dict[str, Scenario]
    ) -> Result:
        """One comparison row; `detail_slow`: details while 2 clients ask for the
        uncached stats over every signal (seconds each), as happens in production."""
        base = scenarios["detail" if key == "detail_slow" else key]
        probe = Scenario(
            f"{name}/{key}", key, base.kinds, base.floor_kinds, 50, self.scale.compare
        )
        if key != "detail_slow":
            return self.measure(port, probe, floor=False)
        seconds = self.scale.compare + max(self.scale.warmup, 1) + 2
        script = self.harness.workdir / f"wrk-slow-{secrets.token_hex(4)}.lua"
        script.write_text(
            lua_script([Kind(1, ["/api/signals/stats/"])], "GET", None, None)
        )
        slow = subprocess.Popen(
            ["wrk", "-t1", "-c2", f"-d{seconds}s", "--timeout", f"{WRK_TIMEOUT}s",
             "-s", str(script), f"http://{HOST}:{port}"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.harness.procs.append(slow)
        try:
            return self.measure(port, probe, floor=False)
        finally:
            try:
                slow.wait(timeout=seconds + WRK_TIMEOUT + 10)
            finally:
                self.harness.stop(slow)

    # -- the production server against the floor

    def row(self, scenario: Scenario) -> Row:
        for row in self.results.rows:
            if row.scenario.key == scenario.key:
                return row
        row = Row(scenario)
        self.results.rows.append(row)
        return row

    def app_phase(self, scenarios: list[Scenario], *, cache: bool) -> None:
        """Each scenario on the app, then at once on the floor (same load window)."""
        env = self.harness.server_env(cache=cache)
        env["BIND"] = f"{HOST}:{APP_PORT}"
        name = "app-cached" if cache else "app"
        self.harness.log(
            f"production server, ENABLE_CACHE={str(cache).lower()}, and floor"
        )
        with self.harness.server(name, [GUNICORN], env, APP_PORT, "/api/health"):
            self.results.server_description = self.harness.describe_server(name)
            with self.pg_watch():
                for scenario in scenarios:
                    row = self.row(scenario)
                    if scenario.key == "journal_stats" and self.data.journal_missing:
                        row.skipped = self.data.journal_missing
                        continue
                    if scenario.key in UNDER_WRITES:
                        self.measure_under_writes(scenario, row)
                        continue
                    if cache:
                        self.fill_floor_cache(scenario)
                    row.app = self.measure(APP_PORT, scenario, floor=False)
                    if scenario.key == "mixed":
                        time.sleep(3)
                        self.results.pg.after = self.web_connections()
                    row.floor = self.measure(FLOOR_PORT, scenario, floor=True)
                if not cache and self.with_singles:
                    self.single_requests()

    def measure_under_writes(self, scenario: Scenario, row: Row) -> None:
        """The scenario while threads write at WRITES_PER_SECOND (mixed_writes:
        PATCH random signals of its detail ids; list100_cached_creates: POST new
        signals), compared with the same load without writes (UNDER_WRITES), with
        the response cache's hit rate and misses per evicted answer over the run."""
        token = self.data.staff_token
        before = cache_counters(token)
        stop = threading.Event()
        done = {"writes": 0, "write_errors": 0}
        if scenario.key == "list100_cached_creates":
            target, args = create_stream, (token, dataset.PAIR_NAMES)
        else:
            detail = next(kind for kind in scenario.kinds if kind.fmt)
            target, args = write_stream, (token, detail.lo, detail.hi)
        writers = [
            threading.Thread(target=target, args=(*args, stop, done, n))
            for n in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        started = time.monotonic()
        try:
            row.app = self.measure(APP_PORT, scenario, floor=False)
        finally:
            stop.set()
            for writer in writers:
                writer.join()
        after = cache_counters(token)
        hits, misses = (after[k] - before[k] for k in ("hits", "misses"))
        baseline_key = UNDER_WRITES[scenario.key]
        baseline = next(r for r in self.results.rows if r.scenario.key == baseline_key)
        # Each create evicts one answer read: its pair's status=active list.
        evicting = done["writes"] if target is create_stream else 0
        row.extra = {
            **done,
            "misses_per_invalidation": misses / evicting if evicting else None,
            "writes_per_second": round(
                done["writes"] / (time.monotonic() - started), 1
            ),
            "hit_rate": hits / (hits + misses) if hits + misses else None,
            "baseline_rps": baseline.app.rps if baseline.app else None,
        }
        self.harness.log(f"  under writes: {row.extra}")

    def fill_floor_cache(self, scenario: Scenario) -> None:
        """Warm the app's cache, and store its bytes where the floor reads them;
        warm every id of a hot range of ids too (a cached row measures hits)."""
        import redis

        client = redis.Redis.from_url(self.harness.redis_url)
        for kind in scenario.kinds:
            for path in kind.paths or []:
                body = get(APP_PORT, path)
                client.set(f"floor:{path}", body)
        client.close()
        for kind in scenario.kinds:
            # A hot set of ids (the cached-detail rows), not every id of the table.
            if kind.fmt and kind.hi - kind.lo < HOT_IDS:
                paths = [kind.fmt % n for n in range(kind.lo, kind.hi + 1)]
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda path: get(APP_PORT, path), paths))

    def single_requests(self) -> None:
        """Bulk create and fresh generation, timed one request at a time."""
        times: dict[str, list[float]] = {
            "bulk": [], "bulk_floor": [], "generate": [], "generate_floor": []
        }  # fmt: skip
        created: list[int] = []
        # Body 0 is the one the floor replays (never committed): start at 1.
        for number in range(1, self.scale.single + 2):
            timed = number > 1  # the first round only warms both servers up
            self.bulk_round(number, times if timed else None)
            self.generate_round(times if timed else None, created)
        bulk_delete(self.harness.db_url)
        items = self.scale.bulk_items
        self.harness.log(
            f"  bulk {items:,}: app {fmt_seconds(times['bulk'])} s, "
            f"floor {fmt_seconds(times['bulk_floor'])} s"
        )
        self.harness.log(
            f"  generate fresh: app {fmt_seconds(times['generate'])} s, "
            f"floor {fmt_seconds(times['generate_floor'])} s"
        )
        self.results.singles = [
            Single(
                "bulk_create",
                f"bulk create {items:,} signals (POST, staff token)",
                times["bulk"],
                times["bulk_floor"],
                "all or nothing; rows deleted afterwards",
            ),
            Single(
                "generate_fresh",
                "generate, 30 pairs, fresh (POST)",
                times["generate"],
                times["generate_floor"],
                "generated signals deleted before each call; "
                f"{'/'.join(map(str, created))} signals generated",
            ),
        ]

    def bulk_round(self, number: int, times: dict[str, list[float]] | None) -> None:
        """Bulk body `number` on the app (committed), then on the floor (rolled back);
        their times into `times` unless None."""
        body = bulk_body(number, self.scale.bulk_items)
        status, content, seconds = post(
            APP_PORT, "/api/signals/bulk/", body, self.data.staff_token
        )
        if status != 201:
            raise RuntimeError(f"bulk create: {status} {content[:300]!r}")
        if times is not None:
            times["bulk"].append(seconds)
        body = bulk_body(number, self.scale.bulk_items)
        status, content, seconds = post(FLOOR_PORT, "/floor/bulk", body, None)
        if status != 200:
            raise RuntimeError(f"floor bulk: {status} {content[:300]!r}")
        if times is not None:
            times["bulk_floor"].append(seconds)

    def generate_round(
        self, times: dict[str, list[float]] | None, created: list[int]
    ) -> None:
        """Fresh generation on the app, then on the floor; the number of signals
        generated into `created` when timed."""
        generate_body = json.dumps({"pairs": dataset.PAIR_NAMES, "timeframe": "1h"})
        generated_delete(self.harness.db_url)
        status, content, seconds = post(
            APP_PORT, "/api/signals/generate/", generate_body, self.data.staff_token
        )
        if status != 200:
            raise RuntimeError(f"generate: {status} {content[:300]!r}")
        if times is not None:
            times["generate"].append(seconds)
            created.append(len(json.loads(content)["generated"]))
        generated_delete(self.harness.db_url)  # the floor replays the inserts
        status, content, seconds = post(FLOOR_PORT, "/floor/generate_fresh", "{}", None)
        if status != 200:
            raise RuntimeError(f"floor generate: {status} {content[:300]!r}")
        if times is not None:
            times["generate_floor"].append(seconds)
