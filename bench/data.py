"""The benchmark's database made ready: migrated, two users with tokens, the data set
of bench/dataset.py loaded, VACUUM ANALYZE; and the writes the benchmarks make to it
(bulk bodies, rows deleted between timed requests)."""

import json
import os
import secrets
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bench import dataset
from bench.servers import PYTHON, ROOT, SETUP_NAME
from signals import rollup


@dataclass
class Data:
    """What the loaded database holds that the scenarios refer to."""

    staff_id: int = 0
    trader_id: int = 0
    staff_token: str = ""
    trader_token: str = ""
    id_range: tuple[int, int] = (0, 0)
    versions: dict[str, str] = field(default_factory=dict)
    load_seconds: dict[str, float] = field(default_factory=dict)
    journal_missing: str = ""  # why the journal scenarios are not measured


def psql(db_url: str) -> Any:
    import psycopg

    return psycopg.connect(f"{db_url}?application_name={SETUP_NAME}", autocommit=True)


def prepare_database(
    db_url: str,
    *,
    signals: int,
    candles: int,
    journal: int,
    log: Callable[[str], None],
) -> Data:
    """Migrate, create the users, load the data set and VACUUM ANALYZE."""
    env = {**os.environ, "DATABASE_URL": db_url, "DEBUG": "true"}
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    data = Data()
    with psql(db_url) as conn:
        data.staff_id = user_create(conn, "bench-staff", staff=True)
        data.trader_id = user_create(conn, "bench-trader", staff=False)
        data.staff_token = token_create(conn, data.staff_id)
        data.trader_token = token_create(conn, data.trader_id)
        journal_table = conn.execute(
            "SELECT to_regclass('journal_journalentry')"
        ).fetchone()[0]
    started = time.monotonic()
    count = dataset.load_signals(db_url, signals=signals)
    data.load_seconds["signals"] = time.monotonic() - started
    log(f"loaded {count:,} signals in {data.load_seconds['signals']:.1f} s")
    started = time.monotonic()
    count = dataset.load_candles(db_url, candles=candles)
    data.load_seconds["candles"] = time.monotonic() - started
    log(f"loaded {count:,} candles in {data.load_seconds['candles']:.1f} s")
    if journal_table is None:
        data.journal_missing = "not measured: journal app missing"
    else:
        load_journal(db_url, data, entries=journal, log=log)
    started = time.monotonic()
    with psql(db_url) as conn:
        conn.execute("VACUUM ANALYZE")
        data.id_range = conn.execute(
            "SELECT min(id), max(id) FROM signals_signal"
        ).fetchone()
        data.versions = {
            "PostgreSQL": conn.execute("SHOW server_version").fetchone()[0],
        }
    data.load_seconds["vacuum"] = time.monotonic() - started
    log(f"VACUUM ANALYZE in {data.load_seconds['vacuum']:.1f} s")
    return data


def load_journal(
    db_url: str, data: Data, *, entries: int, log: Callable[[str], None]
) -> None:
    started = time.monotonic()
    try:
        count = dataset.load_journal(db_url, owner_id=data.trader_id, entries=entries)
        # The raw load bypassed the services: compute the maintained statistics.
        subprocess.run(
            [PYTHON, "manage.py", "recompute_journal", "--stats-only"]
            + ["--user", str(data.trader_id)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": db_url, "DEBUG": "true"},
            check=True,
            timeout=600,
        )
    except Exception as error:  # the journal app is still being written
        data.journal_missing = f"not measured: journal load failed ({error})"
    else:
        data.load_seconds["journal"] = time.monotonic() - started
        log(f"loaded {count:,} journal entries in {data.load_seconds['journal']:.1f} s")


def user_create(conn: Any, username: str, *, staff: bool) -> int:
    return conn.execute(
        """
        INSERT INTO auth_user (password, is_superuser, username, first_name,
                               last_name, email, is_staff, is_active, date_joined)
        VALUES ('!', false, %s, '', '', '', %s, true, now()) RETURNING id
        """,
        [username, staff],
    ).fetchone()[0]


def token_create(conn: Any, user_id: int) -> str:
    key = secrets.token_hex(20)
    conn.execute(
        "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, now(), %s)",
        [key, user_id],
    )
    return key


def deep_cursor(db_url: str, depth: int) -> str:
    """The feed cursor after `depth` rows: the same rows as page depth/100 + 1."""
    from django.core import signing

    from api.pagination import CURSOR_SALT

    with psql(db_url) as conn:
        stamp, pk = conn.execute(
            'SELECT "timestamp", id FROM signals_signal '
            'ORDER BY "timestamp" DESC, id DESC OFFSET %s LIMIT 1',
            [depth - 1],
        ).fetchone()
    return signing.dumps([stamp.isoformat(), pk, "n"], salt=CURSOR_SALT)


def bulk_body(number: int, items: int) -> str:
    """`items` valid signals under a strategy name of their own."""
    start = dataset.END + timedelta(days=400 * (number + 1))
    signals = []
    for i in range(items):
        pair = dataset.PAIR_NAMES[i % 30]
        entry = Decimal("1.10000") + Decimal(i % 97) / 10000
        buy = i % 2 == 0
        sign = 1 if buy else -1
        signals.append(
            {
                "pair": pair,
                "timeframe": "1h",
                "direction": "buy" if buy else "sell",
                "entry_price": str(entry),
                "stop_loss": str(entry - sign * Decimal("0.00500")),
                "take_profit": str(entry + sign * Decimal("0.01000")),
                "confidence": 50 + i % 50,
                "timestamp": (start + timedelta(hours=i // 30)).isoformat(),
                "strategy": f"bench-bulk-{number}",
                "indicators": {"rsi_14": 55.5, "adx_14": 27.1, "atr_14": 0.0031},
            }
        )
    return json.dumps(signals)


def _delete_sql(where: str) -> str:
    """Delete signals and take them out of the stats rollup, in one statement (the
    services do both in one transaction; these deletes go around them)."""
    return (
        f"WITH gone AS (DELETE FROM signals_signal WHERE {where} RETURNING *) "
        + rollup.upsert_select_sql(source="gone", where="TRUE", sign="-")
    )


def generated_delete(db_url: str) -> None:
    """Signals the generator wrote after the data set's last candle."""
    with psql(db_url) as conn:
        conn.execute(
            _delete_sql('strategy = %s AND "timestamp" >= %s'),
            [dataset.STRATEGY, dataset.END],
        )


def bulk_delete(db_url: str) -> None:
    """Signals the timed bulk creates wrote."""
    with psql(db_url) as conn:
        conn.execute(_delete_sql("strategy LIKE 'bench-bulk-%%'"))
