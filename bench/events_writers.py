"""The writers' side of bench/events.py, measured in its process: what recording
the events costs a bulk create, and concurrent single-signal writers under the
advisory lock that orders event ids (as in production). Run after django.setup()
on the benchmark's own database."""

import statistics
import threading
import time
from datetime import UTC, datetime, timedelta

_hour = iter(range(10**9))


def new_signals(count: int, reasoning: str = "") -> list:
    from signals.models import Signal

    base = datetime(2000, 1, 1, tzinfo=UTC)
    from decimal import Decimal

    return [
        Signal(
            pair="EUR/USD",
            timeframe="1h",
            direction="buy",
            entry_price=Decimal("1.1"),
            stop_loss=Decimal("1.095"),
            take_profit=Decimal("1.11"),
            confidence=Decimal("70"),
            timestamp=base + timedelta(hours=next(_hour)),
            reasoning=reasoning,
        )
        for _ in range(count)
    ]


def writer_cost() -> dict:
    """Bulk create of 10,000 signals with and without their events (median of 3),
    and 8 concurrent single-signal writers (under the log's advisory lock, as in
    production)."""
    from unittest import mock

    from signals import services

    def bulk(record: bool) -> float:
        signals = new_signals(10000)
        started = time.perf_counter()
        if record:
            services.signals_insert(signals=signals)
        else:
            with mock.patch.object(services, "signals_record", lambda **_: None):
                services.signals_insert(signals=signals)
        return time.perf_counter() - started

    result = {}
    for record in (False, True, False, True, False, True):
        result.setdefault(record, []).append(bulk(record))

    def concurrent(writers: int = 8, each: int = 60) -> float:
        from django.db import connection

        barrier = threading.Barrier(writers)

        def work() -> None:
            barrier.wait()
            for _ in range(each):
                services.signals_insert(signals=new_signals(1))
            connection.close()

        threads = [threading.Thread(target=work) for _ in range(writers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return writers * each / (time.perf_counter() - started)

    rates = [concurrent() for _ in range(2)]
    return {
        "bulk_10000_without_events_s": round(statistics.median(result[False]), 3),
        "bulk_10000_with_events_s": round(statistics.median(result[True]), 3),
        "concurrent_8_writers_commits_per_s_with_lock": round(
            statistics.median(rates), 1
        ),
    }
