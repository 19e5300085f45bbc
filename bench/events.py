"""Benchmark of the event log and its live channels (not a test).

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/events.py \\
        [--subscribers 1000] [--rate 50] [--seconds 20] [--replay 100000]

Creates (and drops at the end) its own database next to DATABASE_URL's, starts two
uvicorn workers (gunicorn) serving alphaforge.asgi on loopback, and measures:
writer cost of the log (bulk create of 10,000 signals with and without events;
concurrent single-signal writers under the advisory lock),
commit-to-receipt latency for N WebSocket subscribers while signals are created
at --rate per second by a writer process of its own (lost and duplicated counts;
once with plain subscribers, once with `batch` ones), server RSS per 1,000 idle
connections, the replay rate of a client resuming --replay events behind, and the
floor: the same fan-out by bare redis-py pub/sub. Prints one JSON object.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.events_writers import new_signals, writer_cost  # noqa: E402


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_database(url: str) -> tuple[str, str]:
    name = f"alphaforge_bench_events_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name, name


def drop_database(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_servers(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            "alphaforge.workers.RealtimeWorker",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "-c",
            "/dev/null",
            "alphaforge.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("ASGI server did not start")


def server_rss(server: subprocess.Popen) -> int:
    process = psutil.Process(server.pid)
    return sum(child.memory_info().rss for child in process.children())


def writer_main(rate: int, seconds: int, offset: int) -> None:
    """The load generator's process (--writer): create one signal a transaction at
    `rate`/s and print each one's id and commit time. Its timestamps start
    `offset` hours in, clear of every other writer's."""
    import itertools

    import django

    django.setup()
    from bench import events_writers
    from signals import services

    events_writers._hour = itertools.count(offset)

    interval, next_at = 1 / rate, time.monotonic()
    for _ in range(rate * seconds):
        (signal,) = services.signals_insert(signals=new_signals(1))
        print(signal.pk, time.time(), flush=True)
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


async def live_run(
    port: int, subscribers: int, rate: int, seconds: int, *, batch: bool = False
) -> dict:
    """N subscribers (asking for batches, or not); a process of its own creates
    signals at `rate`/s and reports their commit times."""
    import orjson
    import websockets

    commits: dict[int, float] = {}
    received: list[dict[int, int]] = [dict() for _ in range(subscribers)]
    arrivals: list[tuple[int, float]] = []
    duplicates = 0
    sockets = []
    for _ in range(subscribers):
        sock = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/events/", max_queue=None, ping_interval=None
        )
        await sock.send(json.dumps({"action": "subscribe", "batch": batch}))
        sockets.append(sock)
    for sock in sockets:
        while json.loads(await sock.recv())["type"] != "subscribed":
            pass

    async def read(index: int, sock) -> None:  # type: ignore[no-untyped-def]
        nonlocal duplicates
        mine = received[index]
        async for message in sock:
            now = time.time()
            frame = orjson.loads(message)
            for event in frame if isinstance(frame, list) else [frame]:
                signal_id = event.get("data", {}).get("id")
                if signal_id is None:
                    continue
                if signal_id in mine:
                    duplicates += 1
                mine[signal_id] = event["id"]
                arrivals.append((signal_id, now))

    readers = [asyncio.create_task(read(n, s)) for n, s in enumerate(sockets)]

    writer = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--writer", str(rate), "--seconds", str(seconds),
        "--writer-offset", str(10**6 * (2 if batch else 1)),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async for line in writer.stdout:
        pk, at = line.split()
        commits[int(pk)] = float(at)
    if await writer.wait():
        raise RuntimeError(f"the writer process failed ({writer.returncode})")
    # Let the last events arrive (bounded).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if all(len(r) >= len(commits) for r in received):
            break
        await asyncio.sleep(0.1)
    lost = sum(len(set(commits) - set(r)) for r in received)
    # Computed at the end: an event may arrive before its writer noted the commit.
    latencies = [(t - commits[sid]) * 1000 for sid, t in arrivals if sid in commits]
    for task in readers:
        task.cancel()
    for sock in sockets:
        await sock.close()
    increasing = all(list(r.values()) == sorted(r.values()) for r in received)
    return {
        "subscribers": subscribers,
        "batch": batch,
        "signals_created": len(commits),
        "deliveries": len(latencies),
        "commit_to_receipt_ms_p50": percentile(latencies, 0.5),
        "commit_to_receipt_ms_p99": percentile(latencies, 0.99),
        # Not received 10 s after the last commit: lost, or still queued behind.
        "missing_10s_after_last_commit": lost,
        "duplicated": duplicates,
        "ids_increasing_for_every_client": increasing,
    }


async def idle_rss(port: int, server: subprocess.Popen, count: int) -> dict:
    import websockets

    before = server_rss(server)
    sockets = []
    for _ in range(count):
        sock = await websockets.connect(
            f"ws://127.0.0.1:{port}/ws/events/", ping_interval=None
        )
        await sock.send(json.dumps({"action": "subscribe"}))
        sockets.append(sock)
    for sock in sockets:
        await sock.recv()
    await asyncio.sleep(1)
    after = server_rss(server)
    for sock in sockets:
        await sock.close()
    return {
        "idle_connections": count,
        "server_rss_mb_before": round(before / 2**20, 1),
        "server_rss_mb_with_connections": round(after / 2**20, 1),
        "server_rss_mb_per_1000_idle": round(
            (after - before) / 2**20 * 1000 / count, 1
        ),
    }


async def replay_rate(port: int, behind: int, *, batch: bool = False) -> dict:
    import orjson
    import websockets

    from events.models import Event

    head = await asyncio.to_thread(
        lambda: Event.objects.order_by("-id").values_list("id", flat=True).first()
    )
    after = head - behind
    sock = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/events/", max_size=None, ping_interval=None
    )
    started = time.perf_counter()
    await sock.send(json.dumps({"action": "subscribe", "after": after, "batch": batch}))
    got, last = 0, after
    while last < head:
        frame = orjson.loads(await sock.recv())
        for event in frame if isinstance(frame, list) else [frame]:
            if event["type"].startswith("signal."):
                assert event["id"] > last
                got, last = got + 1, event["id"]
    elapsed = time.perf_counter() - started
    await sock.close()
    return {
        "batch": batch,
        "replayed_events": got,
        "replay_seconds": round(elapsed, 2),
        "replay_events_per_s": round(got / elapsed),
    }


async def redis_floor(
    redis_url: str, subscribers: int, rate: int, seconds: int
) -> dict:
    """The same fan-out by bare redis-py pub/sub: each subscriber its own connection."""
    import redis.asyncio as aioredis

    channel = f"bench-floor-{uuid.uuid4().hex}"
    clients = [aioredis.from_url(redis_url) for _ in range(subscribers)]
    pubsubs = [client.pubsub() for client in clients]
    for pubsub in pubsubs:
        await pubsub.subscribe(channel)
        await pubsub.get_message(timeout=1)
    latencies: list[float] = []
    counts = [0] * subscribers

    async def read(index: int, pubsub) -> None:  # type: ignore[no-untyped-def]
        async for message in pubsub.listen():
            if message["type"] == "message":
                latencies.append((time.time() - float(message["data"])) * 1000)
                counts[index] += 1

    readers = [asyncio.create_task(read(n, p)) for n, p in enumerate(pubsubs)]
    publisher = aioredis.from_url(redis_url)
    total = rate * seconds
    for _ in range(total):
        await publisher.publish(channel, repr(time.time()))
        await asyncio.sleep(1 / rate)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and min(counts) < total:
        await asyncio.sleep(0.1)
    for task in readers:
        task.cancel()
    for client in [*clients, publisher]:
        await client.aclose()
    return {
        "subscribers": subscribers,
        "messages": total,
        "publish_to_receipt_ms_p50": percentile(latencies, 0.5),
        "publish_to_receipt_ms_p99": percentile(latencies, 0.99),
        "lost": subscribers * total - sum(counts),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--replay", type=int, default=100000)
    parser.add_argument("--writer", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--writer-offset", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.writer:
        writer_main(options.writer, options.seconds, options.writer_offset)
        return
    base_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    url, name = make_database(base_url)
    redis_bench = redis_url.rsplit("/", 1)[0] + "/7"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_bench,
        "DJANGO_SETTINGS_MODULE": "alphaforge.settings",
        "DEBUG": "false",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "WS_MAX_CONNECTIONS_PER_IP": "100000",
        "WS_MAX_PENDING": "100000",
        "DB_POOL_SIZE": "2",
        "DB_MAX_OVERFLOW": "8",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", "-v0")
    report: dict = {
        "cpu_count": os.cpu_count(),
        "load_average_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    server = None
    try:
        report["writer_cost"] = writer_cost()
        port = free_port()
        server = start_servers(env, port)
        report["idle"] = asyncio.run(idle_rss(port, server, options.subscribers))
        for batch, key in ((False, "live"), (True, "live_batch")):
            report[key] = asyncio.run(
                live_run(
                    port, options.subscribers, options.rate, options.seconds,
                    batch=batch,
                )
            )  # fmt: skip
        report["floor_redis_pubsub"] = asyncio.run(
            redis_floor(redis_bench, options.subscribers, options.rate, options.seconds)
        )
        from signals import services

        for _ in range(options.replay // 10000):
            services.signals_insert(signals=new_signals(10000))
        report["replay"] = asyncio.run(replay_rate(port, options.replay))
        report["replay_batch"] = asyncio.run(
            replay_rate(port, options.replay, batch=True)
        )
        report["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    finally:
        if server is not None:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        drop_database(base_url, name)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
