"""Background work on real Celery workers: Redis as the broker, PostgreSQL shared.

Worker processes are started here against the test database; the test sends tasks
through the broker by name, as beat or a command would, and waits (bounded) for
their effect in the database.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

from market.tests.factories import candles_create
from signals.models import Signal
from signals.tests.test_generation import wave_trend

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
        f"{db['NAME']}"
    )


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    url = redis_url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


class Worker:
    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "alphaforge",
                "worker",
                "-n",
                f"{name}@%h",
                "-c",
                "1",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: SIGKILL takes the children too
        )

    def text(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(broker: str, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(name: str, **extra: str) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "alphaforge.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker,
            **extra,
        }
        worker = Worker(name, env, tmp_path / f"{name}.log")
        started.append(worker)
        wait_for(lambda: "ready." in worker.text(), what=f"{name} to start")
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(
    condition: Callable[[], bool], *, what: str, seconds: float = 90, every: float = 0.1
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(every)


def trending_pairs(count: int, n: int = 260) -> list[str]:
    pairs = [f"T{index:03d}/USD" for index in range(count)]
    high, low, close = wave_trend(1.0, n)
    for pair in pairs:
        candles_create(pair, high, low, close)
    return pairs


def send(broker: str, name: str, *args: object) -> None:
    # Not the current app: later tests in this process keep the project's (eager) one.
    Celery(broker=broker, set_as_current=False).send_task(name, args=args)


def test_generation_fans_out_over_two_workers_and_makes_each_signal_once(
    broker, start_worker
):
    pairs = trending_pairs(20)
    chunks = {"GENERATION_CHUNK_SIZE": "3"}
    first, second = start_worker("first", **chunks), start_worker("second", **chunks)
    send(broker, "signals.generate", "1h", pairs)
    wait_for(lambda: Signal.objects.count() >= len(pairs), what="20 signals")
    # Sent again (a retry, a second beat tick): nothing new.
    send(broker, "signals.generate", "1h", pairs)
    logs = first.text() + second.text()
    wait_for(
        lambda: (first.text() + second.text()).count("succeeded") >= 2 + 2 * 7,
        what="both runs' chunks to finish",
    )
    counts = dict(
        Signal.objects.values_list("pair").annotate(n=models_count()).order_by()
    )
    assert counts == {pair: 1 for pair in pairs}
    done = [w for w in (first, second) if "succeeded" in w.text()]
    assert done, logs  # the chunks ran on the workers, not in this process


def models_count():  # type: ignore[no-untyped-def]
    from django.db.models import Count

    return Count("id")


def test_a_worker_killed_mid_task_loses_no_work(broker, start_worker):
    pairs = trending_pairs(300)
    # One chunk, and a visibility timeout short enough for the test to wait out.
    one_chunk = {"GENERATION_CHUNK_SIZE": "1000", "TASK_VISIBILITY_TIMEOUT": "3"}
    doomed = start_worker("doomed", **one_chunk)
    send(broker, "signals.generate_chunk", pairs, "1h")
    # The task's own first line: it is executing, not only received.
    wait_for(
        lambda: "generating 300 pairs on 1h" in doomed.text(),
        what="the task to start",
    )
    doomed.kill()
    assert Signal.objects.count() < len(pairs)  # it died before its insert committed
    # It looks for abandoned tasks every second (production: every 100 s).
    rescuer = start_worker(
        "rescuer", **one_chunk, TASK_RESTORE_INTERVAL="1", TASK_RESTORE_THROTTLE="1"
    )
    wait_for(
        lambda: Signal.objects.count() >= len(pairs),
        what="the redelivered task to finish",
    )
    assert "generate_chunk[" in rescuer.text()  # redelivered to the other worker
    assert Signal.objects.values("pair").distinct().count() == len(pairs)
    assert Signal.objects.count() == len(pairs)


def test_backfill_and_prune_run_on_a_worker(broker, start_worker):
    from datetime import timedelta

    from django.utils import timezone

    from events.models import Event
    from events.services import events_record
    from market.models import Candle
    from signals.tests.factories import SignalFactory

    pairs = trending_pairs(1)
    stamps = Candle.objects.filter(pair=pairs[0]).order_by("timestamp")
    at = stamps.values_list("timestamp", flat=True)[10]
    active = SignalFactory(pair=pairs[0], timestamp=at)
    (old,) = events_record(events=[("signal.created", {"pair": pairs[0]})])
    Event.objects.filter(id__lte=old.id).update(
        occurred_at=timezone.now() - timedelta(days=400)
    )
    worker = start_worker("pipeline")
    send(broker, "signals.backfill", pairs[0])
    wait_for(
        lambda: Signal.objects.get(pk=active.pk).status != "active",
        what="the signal to be resolved",
    )
    send(broker, "events.prune")
    wait_for(
        lambda: not Event.objects.filter(id__lte=old.id).exists(),
        what="the old events to be pruned",
    )
    assert Event.objects.filter(type="signal.resolved").exists()  # the new one stays
    assert "signals.backfill" in worker.text() and "events.prune" in worker.text()


def test_a_hanging_receiver_does_not_delay_another_subscriptions_delivery(
    broker, start_worker, django_user_model
):
    from django.db import transaction

    from events.services import events_record
    from webhooks.services import subscription_create
    from webhooks.tests.receiver import receiver

    # The slow receiver hangs, and the worker waits on it, for longer than this
    # test's own deadline: a delivery queued behind it could never arrive in time.
    hang = 600
    hooks = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_TIMEOUT": str(hang)}
    workers = start_worker("one", **hooks), start_worker("two", **hooks)
    owner = django_user_model.objects.create_user("hooks", password="pw")
    with receiver(["hang"], hang_seconds=hang) as slow, receiver([200]) as fast:
        with transaction.atomic():
            for url in (slow.url, fast.url):
                subscription_create(owner_id=owner.id, data={"url": url})
        with transaction.atomic():
            events_record(events=[("signal.created", {"pair": "EUR/USD"})])

        def delivered() -> bool:
            send(broker, "webhooks.sweep")  # what beat sends every second
            return bool(fast.requests)

        wait_for(delivered, what="the healthy receiver's delivery", every=0.5)
        assert slow.requests  # called, and still hanging: it held only its own work
        # Later events keep reaching the healthy receiver while the other hangs.
        with transaction.atomic():
            events_record(events=[("signal.created", {"pair": "GBP/USD"})])

        def delivered_again() -> bool:
            send(broker, "webhooks.sweep")
            return len(fast.requests) == 2

        wait_for(delivered_again, what="the next delivery", every=0.5)
        assert len(slow.requests) == 1  # still hanging on the first
        for worker in workers:  # the one stuck on the hang would not stop on SIGTERM
            worker.kill()


def test_a_worker_killed_with_a_delivery_in_flight_loses_nothing_and_keeps_its_id(
    broker, start_worker, django_user_model
):
    from django.db import transaction

    from events.services import events_record
    from webhooks.models import DeliveryState, WebhookDelivery
    from webhooks.services import subscription_create
    from webhooks.tests.receiver import receiver

    hooks = {
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_TIMEOUT": "10",  # the lock lasts 10 s more: the rescuer waits it out
        "TASK_VISIBILITY_TIMEOUT": "3",
    }
    doomed = start_worker("doomed", **hooks)
    owner = django_user_model.objects.create_user("killed", password="pw")
    with receiver(["hang", 200], hang_seconds=120) as hook:
        with transaction.atomic():
            subscription_create(owner_id=owner.id, data={"url": hook.url})
        with transaction.atomic():
            (event,) = events_record(events=[("signal.created", {"pair": "EUR/USD"})])
        send(broker, "webhooks.sweep")
        # The receiver holds the request: the sender is mid-attempt when killed.
        wait_for(lambda: len(hook.requests) == 1, what="the first attempt to arrive")
        doomed.kill()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)
        start_worker(
            "rescuer", **hooks, TASK_RESTORE_INTERVAL="1", TASK_RESTORE_THROTTLE="1"
        )

        def redelivered() -> bool:
            send(broker, "webhooks.sweep")
            return len(hook.requests) >= 2

        wait_for(redelivered, what="the attempt to be made again", every=0.5)
        wait_for(
            lambda: WebhookDelivery.objects.get().state == DeliveryState.DELIVERED,
            what="the delivery to be stored as delivered",
        )
    assert hook.ids() == [event.id, event.id]  # the same webhook-id, nothing else
    delivery.refresh_from_db()
    assert delivery.attempts == 1  # the lost attempt left no trace but the POST


def test_two_workers_deliver_each_subscriptions_events_once_and_in_order(
    broker, start_worker, django_user_model
):
    from contextlib import ExitStack

    from django.db import transaction

    from events.services import events_record
    from webhooks.services import subscription_create
    from webhooks.tests.receiver import Overlap, receiver

    hooks = {"WEBHOOK_ALLOW_PRIVATE": "true"}
    start_worker("one", **hooks), start_worker("two", **hooks)
    owner = django_user_model.objects.create_user("ordered", password="pw")
    shared, ids = Overlap(), []
    with ExitStack() as stack:
        receivers = [
            stack.enter_context(receiver([200], delay=0.005, shared=shared))
            for _ in range(4)
        ]
        for hook in receivers:
            with transaction.atomic():
                subscription_create(owner_id=owner.id, data={"url": hook.url})
        for _ in range(8):  # several commits, each swept as beat or a wake-up would
            with transaction.atomic():
                created = events_record(events=[("signal.created", {"n": 1})] * 5)
            ids += [event.id for event in created]
            send(broker, "webhooks.sweep")

        def all_arrived() -> bool:
            send(broker, "webhooks.sweep")
            return all(len(hook.requests) >= len(ids) for hook in receivers)

        wait_for(all_arrived, what="every event at every receiver", every=0.5)
    for hook in receivers:
        assert hook.ids() == ids
        assert hook.overlap.most == 1


def test_a_task_sent_while_serving_a_request_carries_its_id_to_the_worker(
    broker, start_worker
):
    """The id travels in the task message's headers (alphaforge.celery) and is set
    again while the task runs: the events the task records carry it."""
    import alphaforge.celery  # noqa: F401 (connects the header hooks in this process)
    from core.request_context import request_id
    from events.models import Event

    pairs = trending_pairs(2)
    start_worker("traced")
    token = request_id.set("req-from-web")
    try:
        send(broker, "signals.generate_chunk", pairs, "1h")
    finally:
        request_id.reset(token)
    wait_for(lambda: Event.objects.count() >= len(pairs), what="the task's events")
    assert set(Event.objects.values_list("request_id", flat=True)) == {"req-from-web"}
