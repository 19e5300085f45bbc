"""The embedded default's SQLite cache: Django's cache contract, increments that stay
exact across real processes, expiry, and culling that is not a scan per write."""

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache, caches

from core.local_cache import LocalCache

pytestmark = pytest.mark.usefixtures("local_cache")
START = 1_800_000_000.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A fixed wall clock (the backend and Django's timeout arithmetic read it)."""
    now = [START]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def backend(path: Path, **options: int) -> LocalCache:
    return LocalCache(path, {"OPTIONS": options})


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[LocalCache, list[str]]]:
    """A backend whose one connection records every statement it runs."""
    store = backend(tmp_path / "traced.sqlite3", CULL_EVERY=200)
    statements: list[str] = []
    with store._connection() as conn:
        conn.set_trace_callback(statements.append)
    yield store, statements
    with store._connection() as conn:
        conn.set_trace_callback(None)


def test_get_set_and_defaults() -> None:
    assert cache.get("missing") is None
    assert cache.get("missing", "fallback") == "fallback"
    cache.set("answer", {"bytes": b"\x00\xff", "n": [1, 2.5]})
    assert cache.get("answer") == {"bytes": b"\x00\xff", "n": [1, 2.5]}
    cache.set("answer", "replaced")
    assert cache.get("answer") == "replaced"
    cache.set("falsy", 0)
    assert cache.get("falsy", "fallback") == 0
    cache.set("flag", True)
    assert cache.get("flag") is True  # a bool is not stored as the integer 1


def test_timeout_none_never_expires_and_zero_does_not_store(clock) -> None:
    cache.set("kept", 1, None)
    cache.set("gone", 1, 0)
    assert cache.add("gone", 2, 0) is True  # nothing there to refuse it...
    clock[0] += 10 * 365 * 86400
    assert cache.get("kept") == 1
    assert cache.get("gone") is None  # ...and nothing stored either


def test_entries_expire_after_their_timeout(clock) -> None:
    cache.set("short", "a", 10)
    cache.set_many({"m1": 1, "m2": 2}, 10)
    clock[0] += 9.5
    assert cache.get("short") == "a" and cache.get_many(["m1", "m2"]) == {
        "m1": 1,
        "m2": 2,
    }
    clock[0] += 1
    assert cache.get("short") is None
    assert cache.get_many(["m1", "m2"]) == {}
    assert not cache.has_key("short")


def test_add_stores_only_when_the_key_is_missing_or_expired(clock) -> None:
    assert cache.add("lock", "first", 5) is True
    assert cache.add("lock", "second", 5) is False
    assert cache.get("lock") == "first"
    clock[0] += 6
    assert cache.add("lock", "third", 5) is True
    assert cache.get("lock") == "third"


def test_incr_decr_and_missing_keys(clock) -> None:
    cache.set("n", 5)
    assert cache.incr("n") == 6
    assert cache.incr("n", 10) == 16
    assert cache.decr("n", 3) == 13
    assert cache.get("n") == 13
    with pytest.raises(ValueError):
        cache.incr("absent")
    cache.set("brief", 1, 5)
    clock[0] += 6
    with pytest.raises(ValueError):
        cache.incr("brief")  # expired counts as missing
    cache.set("ratio", 1.5)
    assert cache.incr("ratio") == 2.5  # not an integer: still added


def test_count_starts_counters_that_expire_after_their_last_count(clock) -> None:
    local = caches["default"]
    assert isinstance(local, LocalCache)
    assert [local.count("hits", 60) for _ in range(3)] == [1, 2, 3]
    assert local.ttl("hits") == 60
    clock[0] += 59
    assert local.count("hits", 60) == 4
    assert local.ttl("hits") == 60  # refreshed by the count
    clock[0] += 59  # 118 s after the first count, 59 s after the last: still there
    assert local.count("hits", 60) == 5
    clock[0] += 60  # 60 s after the last count: gone, so a new counter
    assert local.ttl("hits") is None
    assert local.count("hits", 60) == 1


def test_ttl_is_the_time_left_or_none(clock) -> None:
    local = caches["default"]
    assert isinstance(local, LocalCache)
    assert local.ttl("missing") is None
    local.set("forever", 1, None)
    assert local.ttl("forever") is None
    local.set("brief", 1, 10)
    clock[0] += 2.5
    assert local.ttl("brief") == 7.5


def test_get_many_set_many_delete_many_touch_clear(clock) -> None:
    assert cache.set_many({f"k{n}": n for n in range(800)}) == []
    wanted = [f"k{n}" for n in range(0, 800, 2)] + ["nope"]
    assert cache.get_many(wanted) == {f"k{n}": n for n in range(0, 800, 2)}
    cache.delete_many([f"k{n}" for n in range(600)])
    assert cache.get_many(["k599", "k600"]) == {"k600": 600}
    assert cache.delete("k600") is True and cache.delete("k600") is False
    cache.set("t", "v", 5)
    assert cache.touch("t", 100) is True and cache.touch("absent", 100) is False
    clock[0] += 50
    assert cache.get("t") == "v"
    assert cache.touch("t", None) is True
    clock[0] += 10_000
    assert cache.get("t") == "v"
    cache.clear()
    assert cache.get("t") is None and cache.get("k700") is None


def test_versions_and_key_prefix_are_separate_keys() -> None:
    cache.set("v", "one", version=1)
    cache.set("v", "two", version=2)
    assert cache.get("v", version=1) == "one"
    assert cache.get("v", version=2) == "two"


def _count_in_child(path: str, times: int) -> None:
    store = backend(Path(path))
    for _ in range(times):
        store.incr("shared")
        store.count("counted", 60)


def test_increments_from_several_processes_are_all_counted(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    store = backend(path)
    store.set("shared", 0, None)  # the parent's connection is open across the fork
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_count_in_child, args=(str(path), 500)) for _ in range(4)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0, 0, 0]
    assert store.get("shared") == 2000
    assert store.count("counted", 60) == 2001
    assert store.incr("shared") == 2001  # the parent's connection still works


def test_increments_from_several_threads_are_all_counted(tmp_path: Path) -> None:
    store = backend(tmp_path / "threads.sqlite3")
    store.set("shared", 0, None)

    def work() -> None:
        for _ in range(200):
            store.incr("shared")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("shared") == 1600


def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    store = backend(tmp_path / "fork.sqlite3")
    with store._connection() as parent:
        pass
    reader, writer = multiprocessing.get_context("fork").Pipe(duplex=False)

    def child() -> None:
        with store._connection() as conn:
            writer.send(conn is parent)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(30)
    assert reader.recv() is False


def test_writes_do_not_scan_for_expired_rows_each_time(traced, clock) -> None:
    store, statements = traced
    for n in range(99):
        store.set(f"e{n}", n, 10)
        store.count(f"c{n}", 10)
    assert not [s for s in statements if s.startswith("DELETE")]
    assert not [s for s in statements if "count(*)" in s]
    clock[0] += 11  # all of them expired
    store.set("trigger", 1, None)  # the 199th write: no cull yet
    store.add("trigger2", 1, None)  # the 200th: one cull, one bounded batch
    culls = [s for s in statements if s.startswith("DELETE")]
    assert len(culls) == 1 and "LIMIT" in culls[0]
    with store._connection() as conn:
        (left,) = conn.execute("SELECT count(*) FROM cache").fetchone()
    assert left == 2


def test_past_max_entries_the_soonest_to_expire_go_first(tmp_path: Path) -> None:
    store = backend(
        tmp_path / "small.sqlite3", MAX_ENTRIES=10, CULL_FREQUENCY=2, CULL_EVERY=5
    )
    store.set("version", "kept", None)
    for n in range(19):
        store.set(f"r{n}", n, 1000 + n)
    with sqlite3.connect(tmp_path / "small.sqlite3") as conn:
        (left,) = conn.execute("SELECT count(*) FROM cache").fetchone()
    assert left <= 10 + 5
    assert store.get("version") == "kept"
    assert store.get("r18") == 18  # the latest to expire survive
