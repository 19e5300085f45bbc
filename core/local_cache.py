"""The embedded default's shared cache: one SQLite file every local process opens.

Without REDIS_URL the response cache's versions, the rate-limit and the login-limit
counters must still be shared by every worker and thread on the machine, with atomic
increments, and each operation must cost the same whether the store holds ten
entries or twenty thousand (Django's file cache lists its directory on writes, so
its cost grows with the entries). Here each operation is one indexed statement
(a B-tree lookup) in WAL mode, where readers never wait for the writer and writers
queue on SQLite's lock within the busy timeout.

Connections are pooled per process, not per thread: a thread takes an idle one for
one operation and gives it back, so short-lived threads (the development server's)
do not open one each and no connection is used by two threads at once. A connection
opened before a fork is never used nor closed in the child (SQLite forbids both):
the child notices the new process id and opens its own.

Values are pickled like Django's other backends, except integers, stored as SQLite
integers so `incr` adds to them in SQL. Expired rows are invisible to reads and are
deleted every CULL_EVERY writes of a process, a bounded batch at a time, through
the index on `expires`, never by a scan on every write.
"""

import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django_prometheus.cache.metrics import (
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)

if sqlite3.sqlite_version_info < (3, 35, 0):  # UPSERT ... RETURNING
    raise ImportError(
        f"core.local_cache needs SQLite 3.35+, not {sqlite3.sqlite_version}"
    )

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache"
    " (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL)",
    "CREATE INDEX IF NOT EXISTS cache_expires ON cache (expires)",
)
LIVE = "(expires IS NULL OR expires > ?)"
GET = f"SELECT value FROM cache WHERE key = ? AND {LIVE}"
SET = (
    "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key)"
    " DO UPDATE SET value = excluded.value, expires = excluded.expires"
)
# Inserts, or replaces a row that has expired; returns a row only if it stored.
ADD = SET + " WHERE cache.expires IS NOT NULL AND cache.expires <= ? RETURNING 1"
INCR = (
    "UPDATE cache SET value = value + ? WHERE key = ? AND typeof(value) = 'integer'"
    f" AND {LIVE} RETURNING value"
)
# One statement: a new (or expired) counter starts at `delta`, a live one goes up by
# `delta`; either way it lives `timeout` seconds from this count (as INCR + EXPIRE
# on Redis), so a counter expires `timeout` seconds after its last count.
COUNT = (
    "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key)"
    " DO UPDATE SET value = CASE WHEN cache.expires IS NOT NULL"
    " AND cache.expires <= ? OR typeof(cache.value) != 'integer' THEN excluded.value"
    " ELSE cache.value + excluded.value END,"
    " expires = excluded.expires RETURNING value"
)
CULL_EXPIRED = (
    "DELETE FROM cache WHERE key IN (SELECT key FROM cache"
    " WHERE expires <= ? ORDER BY expires LIMIT ?)"
)
CULL_SOONEST = (
    "DELETE FROM cache WHERE key IN (SELECT key FROM cache"
    " WHERE expires IS NOT NULL ORDER BY expires LIMIT ?)"
)
CHUNK = 500  # keys per IN (...) list, far below SQLite's variable limit


class _Pool:
    """Idle connections of one process to one file."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.idle: list[sqlite3.Connection] = []
        # Writes since the last cull (threads may race on it: a cull more or less).
        self.writes = 0


_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()
# Connections a parent process opened: kept referenced so the child never closes
# (and so never checkpoints or unlocks) what the parent is still using.
_inherited: list[_Pool] = []


def _encode(value: Any) -> int | bytes:
    if type(value) is int and -(2**63) <= value < 2**63:
        return value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _decode(stored: int | bytes) -> Any:
    return stored if isinstance(stored, int) else pickle.loads(stored)


class LocalCache(BaseCache):
    """Django cache backend over one SQLite file shared by every local process.

    OPTIONS: MAX_ENTRIES and CULL_FREQUENCY as for Django's backends (enforced at
    each cull, so the store may overshoot by up to CULL_EVERY writes per process),
    CULL_EVERY (writes of a process between culls, default 1000), CULL_BATCH
    (expired rows deleted per cull, default 1000) and TIMEOUT_SECONDS (how long a
    statement waits for another process's write, default 5).
    """

    def __init__(self, location: str | Path, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS", {})
        self._path = str(location)
        self._busy = float(options.get("TIMEOUT_SECONDS", 5))
        self._cull_every = int(options.get("CULL_EVERY", 1000))
        self._cull_batch = int(options.get("CULL_BATCH", 1000))

    # Connections ------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path,
            timeout=self._busy,
            isolation_level=None,  # autocommit: each statement is its transaction
            check_same_thread=False,  # the pool hands it to one thread at a time
        )
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # a cache: no fsync per write
        for statement in SCHEMA:
            conn.execute(statement)
        return conn

    def _pool(self) -> _Pool:
        pool = _pools.get(self._path)
        if pool is not None and pool.pid == os.getpid():
            return pool
        with _pools_lock:
            pool = _pools.get(self._path)
            if pool is None or pool.pid != os.getpid():
                if pool is not None:
                    _inherited.append(pool)
                pool = _pools[self._path] = _Pool()
            return pool

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        pool = self._pool()
        try:
            conn = pool.idle.pop()
        except IndexError:
            conn = self._open()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            pool.idle.append(conn)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements as one write, taking the lock first so none can be
        interleaved with another process's write."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")

    def _wrote(self, conn: sqlite3.Connection, rows: int = 1) -> None:
        """Count writes per process (backend instances come and go with threads
        and requests), culling every CULL_EVERY of them."""
        pool = self._pool()
        pool.writes += rows
        if pool.writes >= self._cull_every:
            pool.writes = 0
            self._cull(conn)

    def _cull(self, conn: sqlite3.Connection) -> None:
        """Delete a bounded batch of expired rows; past MAX_ENTRIES also the
        1/CULL_FREQUENCY that expire soonest (entries that never expire, the
        namespace versions, are kept)."""
        conn.execute(CULL_EXPIRED, (time.time(), self._cull_batch))
        (entries,) = conn.execute("SELECT count(*) FROM cache").fetchone()
        if entries > self._max_entries:
            drop = entries // self._cull_frequency if self._cull_frequency else entries
            conn.execute(CULL_SOONEST, (drop,))

    # The cache API ----------------------------------------------------------

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        django_cache_get_total.labels(backend="sqlite").inc()
        with self._connection() as conn:
            row = conn.execute(GET, (key, time.time())).fetchone()
        if row is None:
            django_cache_misses_total.labels(backend="sqlite").inc()
            return default
        django_cache_hits_total.labels(backend="sqlite").inc()
        return _decode(row[0])

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict:
        names = {self.make_and_validate_key(key, version=version): key for key in keys}
        found: dict[str, Any] = {}
        listed = list(names)
        now = time.time()
        with self._connection() as conn:
            for start in range(0, len(listed), CHUNK):
                chunk = listed[start : start + CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT key, value FROM cache WHERE key IN ({marks}) AND {LIVE}",
                    (*chunk, now),
                )
                found.update((names[name], _decode(value)) for name, value in rows)
        return found

    def has_key(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._connection() as conn:
            return conn.execute(GET, (key, time.time())).fetchone() is not None

    def set(
        self,
        key: str,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> None:
        self.set_many({key: value}, timeout, version)

    def set_many(
        self,
        data: dict[str, Any],
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> list[str]:
        expires = self.get_backend_timeout(timeout)
        if expires is not None and expires <= time.time():  # timeout 0 or less
            self.delete_many(list(data), version)
            return []
        rows = [
            (self.make_and_validate_key(key, version=version), _encode(value), expires)
            for key, value in data.items()
        ]
        if len(rows) == 1:
            with self._connection() as conn:
                conn.execute(SET, rows[0])
                self._wrote(conn)
            return []
        with self._transaction() as conn:
            conn.executemany(SET, rows)
            self._wrote(conn, len(rows))
        return []

    def add(
        self,
        key: str,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        expires = self.get_backend_timeout(timeout)
        now = time.time()
        if expires is not None and expires <= now:  # would expire at once
            return not self.has_key(key, version)
        name = self.make_and_validate_key(key, version=version)
        with self._connection() as conn:
            stored = conn.execute(ADD, (name, _encode(value), expires, now)).fetchone()
            self._wrote(conn)
        return stored is not None

    def touch(
        self,
        key: str,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> bool:
        expires = self.get_backend_timeout(timeout)
        now = time.time()
        if expires is not None and expires <= now:
            return self.delete(key, version)
        name = self.make_and_validate_key(key, version=version)
        with self._connection() as conn:
            touched = conn.execute(
                f"UPDATE cache SET expires = ? WHERE key = ? AND {LIVE} RETURNING 1",
                (expires, name, now),
            ).fetchone()
        return touched is not None

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Atomic across processes: the addition happens in one UPDATE."""
        name = self.make_and_validate_key(key, version=version)
        with self._connection() as conn:
            row = conn.execute(INCR, (delta, name, time.time())).fetchone()
        if row is not None:
            return row[0]
        with self._transaction() as conn:  # missing, or not an integer
            row = conn.execute(GET, (name, time.time())).fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = _decode(row[0]) + delta
            conn.execute(
                "UPDATE cache SET value = ? WHERE key = ?", (_encode(value), name)
            )
        return value

    def count(self, key: str, timeout: float, delta: int = 1) -> int:
        """Add `delta` to the counter and return its new value, in one statement; a
        missing or expired counter starts at `delta`. The counter lives `timeout`
        seconds from this count, so it expires `timeout` seconds after its last one
        (the rate limits' add-then-incr-then-touch without a race between them)."""
        name = self.make_and_validate_key(key)
        now = time.time()
        with self._connection() as conn:
            (value,) = conn.execute(
                COUNT, (name, delta, self.get_backend_timeout(timeout), now)
            ).fetchone()
            self._wrote(conn)
        return value

    def ttl(self, key: str, version: int | None = None) -> float | None:
        """Seconds the entry still lives; None when it is missing or never expires."""
        name = self.make_and_validate_key(key, version=version)
        now = time.time()
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT expires FROM cache WHERE key = ? AND {LIVE}", (name, now)
            ).fetchone()
        return None if row is None or row[0] is None else row[0] - now

    def delete(self, key: str, version: int | None = None) -> bool:
        name = self.make_and_validate_key(key, version=version)
        with self._connection() as conn:
            deleted = conn.execute(
                "DELETE FROM cache WHERE key = ? RETURNING expires", (name,)
            ).fetchone()
        return deleted is not None and (deleted[0] is None or deleted[0] > time.time())

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        names = [self.make_and_validate_key(key, version=version) for key in keys]
        with self._connection() as conn:
            for start in range(0, len(names), CHUNK):
                chunk = names[start : start + CHUNK]
                marks = ",".join("?" * len(chunk))
                conn.execute(f"DELETE FROM cache WHERE key IN ({marks})", chunk)

    def clear(self) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM cache")
