"""No gaps on PostgreSQL: writers commit out of id order, a reader tails `after`."""

import random
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction

from events.models import Event
from market.tests.factories import START
from signals.services import signals_insert
from signals.tests.factories import SignalFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]
WRITERS, WRITES = 8, 12


def test_a_reader_tailing_after_sees_every_committed_event_once_in_order():
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
                    signals_insert(signals=[SignalFactory.build(timestamp=hour)])
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
    assert seen == stored  # every committed event, once, in increasing order
