"""Benchmark data at scale, written by set-based SQL (INSERT … SELECT FROM
generate_series) on PostgreSQL: no row goes through Python.

Signals: `signals` rows over the 30 PAIRS, one an hour per pair, newest ending an hour
before END (the generator's latest candle stays free). Status by age and chance
(newest 1.5 % active, 3 % cancelled, the rest 75 % closed / 25 % expired), outcomes
that follow confidence, levels that fit the direction, exits, pips and excursions
consistent with the outcome, and the eleven indicator keys the generator writes.
Candles: `candles` hourly candles per pair ending at END, a random walk with valid
high/low. Journal: `entries` entries of one user, 90 % closed, pnl/pips/R-multiple
consistent with the prices. Everything is deterministic (setseed).
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg

from signals import rollup

# (pair, reference price, pip size, decimal places of prices)
PAIRS: list[tuple[str, float, float, int]] = [
    ("EUR/USD", 1.085, 0.0001, 5),
    ("GBP/USD", 1.27, 0.0001, 5),
    ("USD/JPY", 151.0, 0.01, 3),
    ("AUD/USD", 0.66, 0.0001, 5),
    ("USD/CHF", 0.88, 0.0001, 5),
    ("USD/CAD", 1.36, 0.0001, 5),
    ("NZD/USD", 0.61, 0.0001, 5),
    ("EUR/GBP", 0.855, 0.0001, 5),
    ("EUR/JPY", 163.0, 0.01, 3),
    ("GBP/JPY", 191.0, 0.01, 3),
    ("AUD/JPY", 99.5, 0.01, 3),
    ("EUR/CHF", 0.955, 0.0001, 5),
    ("EUR/AUD", 1.64, 0.0001, 5),
    ("EUR/CAD", 1.47, 0.0001, 5),
    ("GBP/CHF", 1.12, 0.0001, 5),
    ("CAD/JPY", 111.0, 0.01, 3),
    ("CHF/JPY", 171.0, 0.01, 3),
    ("NZD/JPY", 92.0, 0.01, 3),
    ("AUD/NZD", 1.09, 0.0001, 5),
    ("AUD/CAD", 0.90, 0.0001, 5),
    ("GBP/AUD", 1.92, 0.0001, 5),
    ("GBP/CAD", 1.72, 0.0001, 5),
    ("EUR/NZD", 1.78, 0.0001, 5),
    ("XAU/USD", 2350.0, 0.1, 2),
    ("XAG/USD", 28.5, 0.01, 3),
    ("BTC/USDT", 64000.0, 1.0, 2),
    ("ETH/USDT", 3100.0, 0.1, 2),
    ("SOL/USDT", 145.0, 0.01, 3),
    ("BNB/USDT", 580.0, 0.01, 3),
    ("XRP/USDT", 0.52, 0.0001, 5),
]
PAIR_NAMES = [pair for pair, *_ in PAIRS]
STRATEGY = "trend_momentum"  # the generator's strategy name (signals/strategy.py)
END = datetime(2026, 1, 5, 12, tzinfo=UTC)  # open time of the newest candle


def _pairs_cte() -> str:
    rows = ", ".join(
        f"({index}, '{pair}', {price}::float8, {pip}::numeric, {places})"
        for index, (pair, price, pip, places) in enumerate(PAIRS)
    )
    return f"pairs(idx, pair, price, pip, places) AS (VALUES {rows})"


SIGNALS_SQL = """
WITH {pairs},
raw AS MATERIALIZED (
  SELECT p.pair, p.pip, p.places, g / 30 AS step,
         p.price * (1 + 0.08 * sin(g / 30 / 700.0 + p.idx)
                      + 0.01 * (random() - 0.5)) AS price,
         random() AS r_dir, random() AS r_conf, random() AS r_dist, random() AS r_rr,
         random() AS r_out, random() AS r_status, random() AS r_tf, random() AS r_hold,
         random() AS r_exc, random() AS r_ind
  FROM generate_series(%(first)s::int, %(last)s::int) AS g
  JOIN pairs p ON p.idx = g %% 30
),
-- Each float becomes a numeric once (float8 -> numeric is the costly cast); the rest
-- is numeric arithmetic. MATERIALIZED keeps later references from re-expanding it.
shaped AS MATERIALIZED (
  SELECT pair, pip, places, r_out, r_tf,
         CASE WHEN r_dir < 0.5 THEN 1 ELSE -1 END AS sign,
         round(price::numeric, places) AS entry,
         round((price * (0.002 + 0.008 * r_dist))::numeric, places) AS dist,
         round((1 + 2 * r_rr)::numeric, 3) AS rr,
         round((35 + 60 * r_conf)::numeric, 2) AS confidence,
         round((0.05 + 0.95 * r_exc)::numeric, 4) AS exc,
         round(r_hold::numeric, 4) AS hold,
         round(r_ind::numeric, 4) AS ind,
         %(end)s::timestamptz - (%(per_pair)s::int - step) * interval '1 hour' AS ts,
         CASE WHEN step >= %(per_pair)s::int * 0.985 THEN 'active'
              WHEN r_status < 0.03 THEN 'cancelled'
              WHEN r_status < 0.03 + 0.97 * 0.75 THEN 'closed'
              ELSE 'expired' END AS status
  FROM raw
),
levels AS MATERIALIZED (
  SELECT s.*,
         entry - sign * dist AS stop,
         round(entry + sign * dist * rr, places) AS target,
         CASE WHEN status IN ('active', 'cancelled') THEN 'pending'
              WHEN status = 'closed' THEN
                CASE WHEN r_out < 0.25 + confidence / 200 THEN 'win' ELSE 'loss' END
              WHEN r_out < 0.4 THEN 'win'
              WHEN r_out < 0.8 THEN 'loss'
              ELSE 'breakeven' END AS outcome
  FROM shaped s
),
exits AS MATERIALIZED (
  SELECT l.*,
         CASE WHEN outcome = 'pending' THEN NULL
              WHEN status = 'closed' AND outcome = 'win' THEN target
              WHEN status = 'closed' THEN stop
              WHEN outcome = 'win'
                THEN round(entry + sign * abs(target - entry) * exc, places)
              WHEN outcome = 'loss' THEN round(entry - sign * dist * exc, places)
              ELSE entry END AS exit
  FROM levels l
)
INSERT INTO signals_signal (
  pair, timeframe, direction, entry_price, stop_loss, take_profit, confidence,
  status, outcome, "timestamp", risk_reward, strategy, indicators, reasoning,
  exit_price, pips, mae_pips, mfe_pips, closed_at, created_at, updated_at)
SELECT pair,
       CASE WHEN r_tf < 0.8 THEN '1h' WHEN r_tf < 0.95 THEN '4h' ELSE '15m' END,
       CASE WHEN sign = 1 THEN 'buy' ELSE 'sell' END,
       entry, stop, target, confidence, status, outcome, ts,
       round(abs(target - entry) / dist, 4),
       %(strategy)s,
       jsonb_build_object(
         'ema_20', entry - sign * dist * 0.3,
         'ema_50', entry - sign * dist * 0.9,
         'rsi_14', 50 + sign * 25 * ind,
         'macd', sign * dist * 0.1,
         'macd_signal', sign * dist * 0.07,
         'macd_hist', sign * dist * 0.03,
         'atr_14', round(dist / 1.5, places + 2),
         'adx_14', 20 + 30 * ind,
         'bb_upper', entry + 2 * dist,
         'bb_middle', entry,
         'bb_lower', entry - 2 * dist),
       CASE WHEN sign = 1
            THEN 'EMA 20 above EMA 50, ADX trending, MACD histogram positive'
            ELSE 'EMA 20 below EMA 50, ADX trending, MACD histogram negative' END,
       exit,
       round(sign * (exit - entry) / pip, 4),
       CASE WHEN exit IS NOT NULL THEN round(dist * (0.2 + 0.8 * hold) / pip, 4) END,
       CASE WHEN exit IS NOT NULL THEN
         round((greatest(sign * (exit - entry), 0) + abs(target - entry) * 0.1 * exc)
               / pip, 4) END,
       CASE WHEN exit IS NOT NULL
            THEN ts + (1 + floor(hold * 48)) * interval '1 hour' END,
       ts + interval '1 hour', ts + interval '1 hour'
FROM exits
"""

CANDLES_SQL = """
WITH {pairs},
steps AS (
  SELECT p.idx, p.pair, p.price, p.places, n,
         (random() + random() + random() - 1.5) * 0.004 AS ret,
         random() AS r_high, random() AS r_low, random() AS r_vol
  FROM pairs p CROSS JOIN generate_series(1, %(candles)s::int) AS n
),
walk AS (
  SELECT s.*,
         price * exp(sum(ret) OVER (PARTITION BY idx ORDER BY n)) AS close_f
  FROM steps s
),
prices AS (
  SELECT w.*,
         round(coalesce(lag(close_f) OVER (PARTITION BY idx ORDER BY n), price)
               ::numeric, places) AS o,
         round(close_f::numeric, places) AS c
  FROM walk w
)
INSERT INTO signals_candle (
  pair, timeframe, "timestamp", open, high, low, close, volume)
SELECT pair, '1h',
       %(end)s::timestamptz - (%(candles)s::int - n) * interval '1 hour',
       o,
       round(greatest(o, c) * (1 + 0.002 * r_high)::numeric, places),
       round(least(o, c) * (1 - 0.002 * r_low)::numeric, places),
       c,
       round((1000 + 9000 * r_vol)::numeric, 2)
FROM prices
"""

JOURNAL_SQL = """
WITH {pairs},
raw AS (
  SELECT g, p.pair, p.pip, p.places,
         p.price * (1 + 0.05 * (random() - 0.5)) AS price,
         random() AS r_dir, random() AS r_dist, random() AS r_move, random() AS r_open,
         random() AS r_hold, random() AS r_qty, random() AS r_setup
  FROM generate_series(0, %(entries)s::int - 1) AS g
  JOIN pairs p ON p.idx = (g * 7) %% 30
),
shaped AS (
  SELECT r.*,
         CASE WHEN r_dir < 0.5 THEN 'buy' ELSE 'sell' END AS direction,
         CASE WHEN r_dir < 0.5 THEN 1 ELSE -1 END AS sign,
         round(price::numeric, places) AS entry,
         price * (0.002 + 0.006 * r_dist) AS dist,
         round((1 + floor(r_qty * 10))::numeric, 8) AS qty,
         %(end)s::timestamptz - (%(entries)s::int - g) * interval '20 minutes'
           AS opened,
         r_open < 0.9 AS is_closed
  FROM raw r
),
priced AS (
  SELECT s.*,
         round((CASE WHEN direction = 'buy' THEN price - dist ELSE price + dist END)
               ::numeric, places) AS stop,
         round((CASE WHEN direction = 'buy' THEN price + 2 * dist
                     ELSE price - 2 * dist END)::numeric, places) AS target,
         CASE WHEN is_closed THEN
           round((price + sign * dist * (3.5 * r_move - 1.2))::numeric, places)
         END AS exit
  FROM shaped s
),
results AS (
  SELECT pr.*,
         round(sign * (exit - entry) * qty, 8) AS pnl,
         round(sign * (exit - entry) / pip, 10) AS pips,
         round(sign * (exit - entry) / abs(entry - stop), 12) AS r
  FROM priced pr
)
INSERT INTO journal_journalentry (
  owner_id, account_id, signal_id, pair, direction, entry_price, exit_price, stop_loss,
  take_profit, quantity, opened_at, closed_at, gross_pnl, pnl, pnl_manual, pips,
  r_multiple,
  outcome, setup, notes, created_at, updated_at)
SELECT %(owner)s, %(account)s, NULL, pair, direction, entry, exit, stop, target, qty,
       opened,
       CASE WHEN is_closed
            THEN opened + (1 + floor(r_hold * 72)) * interval '1 hour' END,
       pnl, pnl, false, pips, r,
       CASE WHEN NOT is_closed THEN 'pending' WHEN pnl > 0 THEN 'win'
            WHEN pnl < 0 THEN 'loss' ELSE 'breakeven' END,
       (ARRAY['breakout', 'pullback', 'range', 'news'])[1 + floor(r_setup * 4)::int],
       '', opened, opened
FROM results
"""


def _secondary_indexes(cursor: psycopg.Cursor, table: str) -> list[tuple[str, str]]:
    """Indexes that back no constraint: safe to drop for a load and rebuild."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = %s
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [table],
    )
    return cursor.fetchall()


def _session(conn: psycopg.Connection) -> None:
    # Materialised CTEs stay in memory; JIT only adds compile time to one-off loads.
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("SET jit = off")


def _insert(url: str, sql: str, params: dict, seed: float) -> int:
    with psycopg.connect(url) as conn:
        _session(conn)
        conn.execute("SELECT setseed(%s)", [seed])
        return conn.execute(sql, params).rowcount


def _load(url: str, table: str, sql: str, chunks: list[dict]) -> int:
    """Drop the secondary indexes, insert the chunks side by side, rebuild the indexes.

    Building an index once over the loaded table is much cheaper than keeping it up to
    date row by row; each chunk runs on its own connection (PostgreSQL uses one core
    a statement) with its own seed, so the data is the same every run.
    """
    with psycopg.connect(url) as conn:
        _session(conn)
        indexes = _secondary_indexes(conn.cursor(), table)
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.commit()
        statement = sql.format(pairs=_pairs_cte())
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            counts = pool.map(
                lambda item: _insert(url, statement, item[1], 0.42 + item[0] / 100),
                enumerate(chunks),
            )
            count = sum(counts)
        for _, definition in indexes:
            conn.execute(definition)
        conn.commit()
    return count


def load_signals(url: str, *, signals: int, parallel: int = 2) -> int:
    per_pair = -(-signals // len(PAIRS))
    bounds = [signals * k // parallel for k in range(parallel + 1)]
    chunks = [
        {
            "first": bounds[k],
            "last": bounds[k + 1] - 1,
            "per_pair": per_pair,
            "end": END,
            "strategy": STRATEGY,
        }
        for k in range(parallel)
    ]
    count = _load(url, "signals_signal", SIGNALS_SQL, chunks)
    rollup_rebuild(url)
    return count


def rollup_rebuild(url: str) -> int:
    """The rows went in around the write services: recount the stats rollup from them
    (what `manage.py rebuild_signal_rollup` does); returns its row count."""
    with psycopg.connect(url) as conn:
        conn.execute(f"DELETE FROM {rollup.TABLE}")
        conn.execute(rollup.upsert_select_sql(source="signals_signal", where="TRUE"))
        return conn.execute(f"SELECT count(*) FROM {rollup.TABLE}").fetchone()[0]


def load_candles(url: str, *, candles: int) -> int:
    return _load(url, "signals_candle", CANDLES_SQL, [{"candles": candles, "end": END}])


def _default_account(url: str, owner_id: int) -> int:
    """The owner's oldest journal account, created as the services would."""
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT id FROM journal_account WHERE owner_id = %s ORDER BY id LIMIT 1",
            [owner_id],
        ).fetchone()
        if found is None:
            found = conn.execute(
                "INSERT INTO journal_account (owner_id, name, broker, currency,"
                " timezone, created_at) VALUES (%s, 'Default', '', '', 'UTC', now())"
                " RETURNING id",
                [owner_id],
            ).fetchone()
        return found[0]


def load_journal(url: str, *, owner_id: int, entries: int) -> int:
    account = _default_account(url, owner_id)
    return _load(
        url,
        "journal_journalentry",
        JOURNAL_SQL,
        [{"entries": entries, "end": END, "owner": owner_id, "account": account}],
    )
