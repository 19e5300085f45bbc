"""Webhook delivery on Celery workers, against loopback receivers.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/webhooks.py \
        [--subscriptions 200] [--events 1000] [--steady-subscriptions 50] \
        [--rate 20] [--seconds 30] [--bad 0.1] [--floor-events 50] [--workers 2] \
        [--no-write]

Starts the workers (WEBHOOK_ALLOW_PRIVATE, loopback only) and a receiver process
(bench/webhook_receivers.py: a path per subscription). Commits wake the workers as in
production and the sweep is sent every second as beat would. Scenarios: a backlog
(S subscriptions × E events recorded at once: deliveries/s from the first commit to
the last receipt); a steady stream (fewer subscriptions, one event every 1/rate s:
commit-to-receipt p50/p99); the same stream with a fraction `--bad` of receivers
answering 500 or hanging past WEBHOOK_TIMEOUT (the healthy ones' p99 against the
all-healthy run); and the floor, the same POSTs from one asyncio client with no
database. Lost and duplicated deliveries are counted on healthy receivers.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")
os.environ["WEBHOOK_ALLOW_PRIVATE"] = "true"
os.environ.setdefault("WEBHOOK_TIMEOUT", "5")

import django  # noqa: E402

django.setup()

from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.report import result_row, write_results, write_section  # noqa: E402
from bench.servers import load_average  # noqa: E402
from bench.webhook_receivers import (  # noqa: E402
    SECRET,
    ReceiverProcess,
    floor_posts_per_second,
)
from bench.workers import workers_start, workers_stop  # noqa: E402
from events.models import Event  # noqa: E402
from events.services import events_record  # noqa: E402
from webhooks.models import DispatchCursor, WebhookDelivery, WebhookSubscription  # noqa: E402, E501

HEADING = "## Webhooks on workers (bench/webhooks.py)"


def subscriptions_make(count: int, port: int) -> None:
    WebhookDelivery.objects.all().delete()
    WebhookSubscription.objects.all().delete()
    last = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    DispatchCursor.objects.update_or_create(pk=1, defaults={"last_event_id": last})
    owner, _ = get_user_model().objects.get_or_create(username="bench-hooks")
    WebhookSubscription.objects.bulk_create(
        WebhookSubscription(
            owner=owner, url=f"http://127.0.0.1:{port}/{n}", secret=SECRET
        )
        for n in range(count)
    )


def record(count: int) -> dict[str, float]:
    """`count` events in one commit; their ids and commit time."""
    with transaction.atomic():
        created = events_record(
            events=[
                ("signal.created", {"pair": "EUR/USD", "n": n}) for n in range(count)
            ]
        )
    now = time.time()
    return {str(event.id): now for event in created}


def outcome(
    receivers: ReceiverProcess, committed: dict[str, float], healthy: int, took: float
) -> dict[str, float]:
    records = receivers.records()
    first: dict[tuple[int, str], float] = {}
    for n, msg_id, at in records:
        first.setdefault((n, msg_id), at)
    latencies = sorted(at - committed[msg_id] for (_, msg_id), at in first.items())
    expected = healthy * len(committed)
    return {
        "retried": WebhookDelivery.objects.filter(attempts__gt=1).count(),
        "healthy": healthy,
        "delivered": len(first),
        "lost": expected - len(first),
        "duplicates": len(records) - len(first),
        "per_second": len(first) / took,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0,
    }


def wait_all(receivers: ReceiverProcess, expected: int, app: Celery) -> float:
    """Sweep every second (beat) until `expected` receipts or 10 minutes."""
    deadline, swept = time.time() + 600, 0.0
    while receivers.count() < expected and time.time() < deadline:
        if time.time() - swept >= 1:
            app.send_task("webhooks.sweep", expires=5)
            swept = time.time()
        time.sleep(0.05)
    return time.time()


def backlog(subscriptions: int, events: int, app: Celery) -> dict[str, float]:
    receivers = ReceiverProcess(set(), 0)
    subscriptions_make(subscriptions, receivers.port)
    committed: dict[str, float] = {}
    started = time.time()
    for _ in range(0, events, 100):
        committed.update(record(min(100, events - len(committed))))
    finished = wait_all(receivers, subscriptions * events, app)
    result = outcome(receivers, committed, subscriptions, finished - started)
    receivers.stop()
    return result


def steady(
    subscriptions: int, rate: float, seconds: float, bad_fraction: float, app: Celery
) -> dict[str, float]:
    bad = set(range(int(subscriptions * bad_fraction)))
    receivers = ReceiverProcess(bad, float(settings.WEBHOOK_TIMEOUT) + 1)
    subscriptions_make(subscriptions, receivers.port)
    committed: dict[str, float] = {}
    started = time.time()
    swept = started
    for tick in range(int(rate * seconds)):
        time.sleep(max(0.0, started + tick / rate - time.time()))
        committed.update(record(1))
        if time.time() - swept >= 1:
            app.send_task("webhooks.sweep", expires=5)
            swept = time.time()
    healthy = subscriptions - len(bad)
    finished = wait_all(receivers, healthy * len(committed), app)
    result = outcome(receivers, committed, healthy, finished - started)
    receivers.stop()
    return result


def rows_json(
    args: argparse.Namespace, results: dict[str, dict], floor: dict, load: str
) -> list[dict]:
    section = HEADING.lstrip("#").strip()
    backlog_, calm, mixed = results["backlog"], results["steady"], results["bad"]
    ratio = mixed["p99"] / calm["p99"] if calm["p99"] else None
    intact = all(r["lost"] == 0 and r["duplicates"] == 0 for r in results.values())
    common = {"load_average": load, "workers": args.workers}
    return [
        result_row(
            section, f"backlog {args.subscriptions} subscriptions × {args.events} "
            "events", {**backlog_, **common}, floor,
            backlog_["per_second"] / floor["per_second"], "≥ 1,000 deliveries/s",
            backlog_["per_second"] >= 1000,
        ),
        result_row(
            section, f"steady {args.steady_subscriptions} subscriptions at "
            f"{args.rate:g} events/s", {**calm, **common}, None, None,
            "p50 ≤ 0.1 s, p99 ≤ 1 s", calm["p50"] <= 0.1 and calm["p99"] <= 1,
        ),
        result_row(
            section, f"steady with {args.bad:.0%} failing or hanging receivers",
            {**mixed, **common}, None, ratio, "healthy p99 < 2× the all-healthy p99",
            ratio is not None and ratio < 2,
        ),
        result_row(
            section, "lost and duplicated deliveries", {"all_scenarios": intact},
            None, None, "0 lost, 0 duplicated", intact,
        ),
    ]  # fmt: skip


def markdown(args: argparse.Namespace, results: dict, floor: dict, load: str) -> str:
    lines = [
        HEADING,
        "",
        f"{args.workers} worker processes (`celery worker -c 1` each), "
        f"`WEBHOOK_TIMEOUT` {settings.WEBHOOK_TIMEOUT} s, WEBHOOK_CONCURRENCY "
        f"{getattr(settings, 'WEBHOOK_CONCURRENCY', 100)}; receivers in one asyncio "
        f"process on loopback; load average before/after {load}. Backlog: "
        f"{args.subscriptions} subscriptions × {args.events} events recorded at once; "
        f"steady: {args.steady_subscriptions} subscriptions, one event every "
        f"{1 / args.rate:.2f} s for {args.seconds:g} s. Latency is from the event's "
        "commit to its receipt, healthy receivers only. Floor: the same signed POSTs "
        f"({args.subscriptions} subscriptions × {args.floor_events} events, in order "
        "per subscription, 100 in flight) by the senders' HTTP path in one asyncio "
        "process, no database, "
        f"{floor['per_second']:.0f}/s.",
        "",
        "| scenario | healthy | delivered | lost | duplicated | retried | "
        "deliveries/s | p50 s | p99 s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = {
        "backlog": "backlog",
        "steady": "steady, all healthy",
        "bad": f"steady, {args.bad:.0%} failing or hanging",
    }
    for key, r in results.items():
        lines.append(
            f"| {names[key]} | {r['healthy']} | {r['delivered']} | {r['lost']} | "
            f"{r['duplicates']} | {r['retried']} | {r['per_second']:.0f} | "
            f"{r['p50']:.3f} | "
            f"{r['p99']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--steady-subscriptions", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--bad", type=float, default=0.1)
    parser.add_argument("--floor-events", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("Set DATABASE_URL (PostgreSQL, migrated) and REDIS_URL.")
    before = load_average()
    floor = floor_posts_per_second(args.subscriptions, args.floor_events)
    print("floor", floor, flush=True)
    app = Celery(broker=settings.CELERY_BROKER_URL)
    procs = workers_start(args.workers, concurrency=1, name="hooks")
    results = {}
    try:
        results["backlog"] = backlog(args.subscriptions, args.events, app)
        print("backlog", results["backlog"], flush=True)
        for key, bad in (("steady", 0.0), ("bad", args.bad)):
            results[key] = steady(
                args.steady_subscriptions, args.rate, args.seconds, bad, app
            )
            print(key, results[key], flush=True)
    finally:
        workers_stop(procs)
    load = f"{before} / {load_average()}"
    text = markdown(args, results, floor, load)
    print(text)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text, HEADING)
        write_results(
            ROOT / "BENCHMARKS.json", HEADING, rows_json(args, results, floor, load)
        )


if __name__ == "__main__":
    main()
