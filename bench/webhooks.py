"""Webhook delivery on Celery workers: S subscriptions on loopback receivers, E events.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/webhooks.py \
        [--subscriptions 200] [--events 100] [--bad 0.1] [--workers 2] [--no-write]

Starts the workers (WEBHOOK_ALLOW_PRIVATE, loopback only), one receiver server with a
path per subscription, records E events in batches of 10 and sends the sweep every
half second as beat would every second. Reports deliveries/s and commit-to-receipt
p50/p99 of the healthy receivers, lost and duplicated deliveries; then the same with a
fraction `--bad` of the receivers answering 500 or hanging past WEBHOOK_TIMEOUT.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")
os.environ["WEBHOOK_ALLOW_PRIVATE"] = "true"
os.environ.setdefault("WEBHOOK_TIMEOUT", "2")

import django  # noqa: E402

django.setup()

from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.report import write_section  # noqa: E402
from bench.servers import load_average  # noqa: E402
from bench.workers import workers_start, workers_stop  # noqa: E402
from events.models import Event  # noqa: E402
from events.services import events_record  # noqa: E402
from webhooks.models import DispatchCursor, WebhookDelivery, WebhookSubscription  # noqa: E402, E501

HEADING = "## Webhooks on workers (bench/webhooks.py)"


class Receivers:
    """One server; /<n> is subscription n's receiver. Bad ones fail or hang."""

    def __init__(self, bad: set[int]) -> None:
        self.bad = bad
        self.received: dict[tuple[int, str], float] = {}
        self.duplicates = 0
        lock, outer = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                n = int(self.path.strip("/"))
                if n in outer.bad:
                    if n % 2:
                        time.sleep(float(settings.WEBHOOK_TIMEOUT) + 1)
                    self.send_response(500)
                else:
                    key = (n, self.headers["webhook-id"])
                    with lock:
                        outer.duplicates += key in outer.received
                        outer.received.setdefault(key, time.time())
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def scenario(args: argparse.Namespace, bad_fraction: float) -> dict[str, float]:
    WebhookDelivery.objects.all().delete()
    WebhookSubscription.objects.all().delete()
    last = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    DispatchCursor.objects.update_or_create(pk=1, defaults={"last_event_id": last})
    owner, _ = get_user_model().objects.get_or_create(username="bench-hooks")
    bad = set(range(int(args.subscriptions * bad_fraction)))
    receivers = Receivers(bad)
    for n in range(args.subscriptions):
        WebhookSubscription.objects.create(
            owner=owner,
            url=f"http://127.0.0.1:{receivers.port}/{n}",
            secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
        )
    committed: dict[str, float] = {}
    app = Celery(broker=settings.CELERY_BROKER_URL)
    started = time.time()
    for _ in range(0, args.events, 10):
        with transaction.atomic():
            created = events_record(
                events=[
                    ("signal.created", {"pair": "EUR/USD", "n": n}) for n in range(10)
                ]
            )
        now = time.time()
        committed.update({str(event.id): now for event in created})
        app.send_task("webhooks.sweep")
        time.sleep(0.2)
    healthy = args.subscriptions - len(bad)
    expected = healthy * len(committed)
    deadline = time.time() + 600
    while len(receivers.received) < expected and time.time() < deadline:
        app.send_task("webhooks.sweep")
        time.sleep(0.5)
    took = time.time() - started
    latencies = sorted(
        at - committed[msg_id] for (_, msg_id), at in receivers.received.items()
    )
    receivers.server.shutdown()
    return {
        "healthy": healthy,
        "delivered": len(receivers.received),
        "lost": expected - len(receivers.received),
        "duplicates": receivers.duplicates,
        "per_second": len(receivers.received) / took,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[int(0.99 * (len(latencies) - 1))]
        if latencies
        else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--bad", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or settings.CELERY_TASK_ALWAYS_EAGER:
        sys.exit("Set DATABASE_URL (PostgreSQL, migrated) and REDIS_URL.")
    procs = workers_start(args.workers, concurrency=4, name="hooks")
    try:
        rows = [("all healthy", scenario(args, 0.0))]
        rows.append((f"{args.bad:.0%} failing or hanging", scenario(args, args.bad)))
    finally:
        workers_stop(procs)
    lines = [
        HEADING,
        "",
        f"{args.subscriptions} subscriptions on one loopback receiver, {args.events} "
        f"events, {args.workers} worker processes × 4; WEBHOOK_TIMEOUT "
        f"{settings.WEBHOOK_TIMEOUT} s; load average {load_average()}. Latency is from "
        "the event's commit to its receipt, healthy receivers only.",
        "",
        "| receivers | healthy | delivered | lost | duplicated | deliveries/s | p50 s "
        "| p99 s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['healthy']} | {r['delivered']} | {r['lost']} | "
            f"{r['duplicates']} | {r['per_second']:.0f} | {r['p50']:.2f} | "
            f"{r['p99']:.2f} |"
        )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text, HEADING)


if __name__ == "__main__":
    main()
