"""Loopback webhook receivers for bench/webhooks.py, in a process of their own.

One asyncio HTTP/1.1 server (keep-alive, Content-Length bodies only): `/<n>` is
subscription n's receiver. Bad receivers answer 500, the odd ones after hanging past
WEBHOOK_TIMEOUT. Every request to a healthy receiver is recorded as (n, webhook-id,
arrival time); the parent reads the count while it waits and the records at the end.
Also the floor: the same signed POSTs through the senders' HTTP path, no database.
"""

import asyncio
import multiprocessing
import time
from multiprocessing.connection import Connection

from webhooks.posting import Claimed, Clients, attempt_post, loop_run

SECRET = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
FAIL = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"


async def _serve(
    bad: set[int], hang: float, counter: "multiprocessing.sharedctypes.Synchronized",
    commands: Connection, ready: Connection,
) -> None:  # fmt: skip
    records: list[tuple[int, str, float]] = []
    seen: set[tuple[int, str]] = set()

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = dict(
                    line.lower().split(": ", 1) for line in lines[1:] if ": " in line
                )
                await reader.readexactly(int(headers.get("content-length", 0)))
                n = int(path.strip("/"))
                if n in bad:
                    if n % 2:
                        await asyncio.sleep(hang)
                    writer.write(FAIL)
                else:
                    records.append((n, headers["webhook-id"], time.time()))
                    seen.add((n, headers["webhook-id"]))
                    counter.value = len(seen)  # distinct deliveries received
                    writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    ready.send(server.sockets[0].getsockname()[1])
    loop = asyncio.get_running_loop()
    while True:
        await loop.run_in_executor(None, commands.poll, None)
        command = commands.recv()
        if command == "records":
            commands.send(records)
        elif command == "clear":
            records.clear()
            seen.clear()
            counter.value = 0
            commands.send(True)
        else:
            server.close()
            return


def _main(bad: set[int], hang: float, counter, commands, ready) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_serve(bad, hang, counter, commands, ready))


class ReceiverProcess:
    def __init__(self, bad: set[int], hang: float) -> None:
        self.counter = multiprocessing.Value("q", 0, lock=False)
        self.commands, theirs = multiprocessing.Pipe()
        ready_here, ready_there = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(
            target=_main, args=(bad, hang, self.counter, theirs, ready_there)
        )
        self.proc.start()
        self.port = ready_here.recv()

    def count(self) -> int:
        return self.counter.value

    def records(self) -> list[tuple[int, str, float]]:
        self.commands.send("records")
        return self.commands.recv()

    def clear(self) -> None:
        self.commands.send("clear")
        self.commands.recv()

    def stop(self) -> None:
        self.commands.send("stop")
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()


async def _floor(
    clients: Clients, port: int, subscriptions: int, events: int, concurrency: int
) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def in_order(n: int) -> None:
        for event_id in range(1, events + 1):
            body = f'{{"id":{event_id},"type":"signal.created","data":{{}}}}'
            url = f"http://127.0.0.1:{port}/{n}"
            delivery = Claimed(0, n, event_id, body, 0, url, SECRET)
            async with gate:
                await attempt_post(clients, delivery, timeout=10, allow_private=True)

    await asyncio.gather(*(in_order(n) for n in range(subscriptions)))


def floor_posts_per_second(
    subscriptions: int, events: int, concurrency: int = 100
) -> dict[str, float]:
    """The same signed POSTs (in order per subscription, `concurrency` in flight)
    through the senders' own HTTP path (`webhooks.posting`: its pools, its address
    check) with no database: what sending alone reaches here."""
    receivers = ReceiverProcess(set(), 0)
    started = time.time()
    loop_run(
        lambda clients: _floor(
            clients, receivers.port, subscriptions, events, concurrency
        ),
        connections=concurrency,
    )
    took = time.time() - started
    received = receivers.count()
    receivers.stop()
    return {"delivered": received, "seconds": took, "per_second": received / took}
