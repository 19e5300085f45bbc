"""No gaps on PostgreSQL: writers commit out of id order, a reader tails `after`."""

import random
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction

from events.models import Event
from market.tests.factories import START
from signals.models import Signal
from signals.services import signals_insert
from signals.tests.factories import SignalFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]
WRITERS, WRITES = 8, 12
PAIRS = ["EUR/USD", "GBP/USD", "AUD/USD", "NZD/USD", "USD/CAD", "USD/CHF", "EUR/GBP",
         "EUR/CHF"]  # fmt: skip


def writers_and_a_reader() -> tuple[list[int], list[int]]:
    """WRITERS threads commit signals (and so events) out of id order while a
    reader tails `after`; returns what the reader saw and what is stored."""
    start = threading.Barrier(WRITERS + 1)
    done = threading.Event()
    committed: list[int] = []
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        rng = random.Random(writer)
        try:
            start.wait(timeout=30)
            for n in range(WRITES):
                hour = START + timedelta(hours=writer * WRITES + n)
                with transaction.atomic():
                    # A pair a writer: no other lock (the stats rollup's rows)
                    # orders the writers' commits but the log's own.
                    signal = SignalFactory.build(timestamp=hour, pair=PAIRS[writer])
                    signals_insert(signals=[signal])
                    # Hold the transaction open after the insert got its id, a
                    # different time each: without ordering, commits overtake ids.
                    time.sleep(rng.uniform(0, 0.02))
                    rolled_back = n % 5 == 4
                    if rolled_back:
                        transaction.set_rollback(True)
                if not rolled_back:
                    committed.append(1)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)
        finally:
            connection.close()

    seen: list[int] = []

    def read() -> None:
        after = 0
        try:
            start.wait(timeout=30)
            while True:
                finished = done.is_set()  # read once more after the last commit
                rows = list(
                    Event.objects.after(after).values_list("id", flat=True)[:1000]
                )
                seen.extend(rows)
                after = rows[-1] if rows else after
                if finished and not rows:
                    return
        except BaseException as error:  # noqa: BLE001
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    reader = threading.Thread(target=read)
    for thread in [*threads, reader]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    reader.join(timeout=60)
    assert not failures
    stored = list(Event.objects.order_by("id").values_list("id", flat=True))
    assert len(stored) == len(committed) == WRITERS * (WRITES - WRITES // 5)
    return seen, stored


def test_a_reader_tailing_after_sees_every_committed_event_once_in_order():
    seen, stored = writers_and_a_reader()
    assert seen == stored  # every committed event, once, in increasing order


def test_without_the_commit_order_lock_the_reader_loses_events(monkeypatch):
    """The negative control: the same run with the lock off must lose events, or
    the test above proves nothing."""
    from events import services

    monkeypatch.setattr(services, "_commit_order_lock", lambda: None)
    for _ in range(3):  # a gap is near certain in one run; three make it sure
        seen, stored = writers_and_a_reader()
        if set(seen) != set(stored):
            break
        Event.objects.all().delete()
        Signal.objects.all().delete()
    assert set(stored) - set(seen), "no event lost without the lock"
    assert seen == sorted(seen)  # what it saw, it saw in order
