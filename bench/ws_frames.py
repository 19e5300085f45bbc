"""What the ASGI stack costs per WebSocket frame (not a test).

    python bench/ws_frames.py [--sockets 500] [--frames 100] [--rounds 3]

For each server stack (a Channels consumer or a plain ASGI application, see
bench/ws_frames_app.py) under each of uvicorn's WebSocket implementations
(`websockets`, `websockets-sansio`, `wsproto`), starts one uvicorn process, opens
--sockets connections from a client process of its own, and asks the server for
--frames events to every socket. It reads the server process's CPU time (user +
system) around each burst: CPU microseconds per frame is the stack's cost, free of
the client's (which shares the machine). Prints one JSON object; no database.
"""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
STACKS = {
    "channels": "bench.ws_frames_app:channels_router",
    "raw": "bench.ws_frames_app:raw_application",
}
IMPLEMENTATIONS = ("websockets", "websockets-sansio", "wsproto")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_start(app: str, ws: str, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--ws", ws,
         "--log-level", "warning", "--no-access-log", "--loop", "asyncio"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"uvicorn --ws {ws} {app} did not start")


async def client_run(port: int, sockets: int, frames: int, rounds: int) -> None:
    """The client process: connect, then for each round ask for a burst, wait
    until every socket got it, and report on stdout (the driver reads CPU)."""
    import websockets

    url = f"ws://127.0.0.1:{port}/"
    clients = [
        await websockets.connect(url, max_queue=None, ping_interval=None)
        for _ in range(sockets)
    ]

    async def drain(client) -> None:  # type: ignore[no-untyped-def]
        for _ in range(frames):
            await client.recv()

    for _ in range(rounds):
        print("ready", flush=True)
        sys.stdin.readline()  # the driver has read the server's CPU time
        started = time.perf_counter()
        await clients[0].send(f"go {frames}")
        await asyncio.gather(*(drain(client) for client in clients))
        print(f"done {time.perf_counter() - started:.4f}", flush=True)
        sys.stdin.readline()
    for client in clients:
        await client.close()


def measure(app: str, ws: str, sockets: int, frames: int, rounds: int) -> dict:
    port = free_port()
    server = server_start(app, ws, port)
    process = psutil.Process(server.pid)
    client = subprocess.Popen(
        [sys.executable, __file__, "--client", str(port), "--sockets", str(sockets),
         "--frames", str(frames), "--rounds", str(rounds)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    per_frame, walls = [], []
    try:
        for _ in range(rounds):
            assert client.stdout.readline().strip() == "ready"
            before = process.cpu_times()
            client.stdin.write("\n")
            client.stdin.flush()
            wall = float(client.stdout.readline().split()[1])
            after = process.cpu_times()
            spent = (after.user - before.user) + (after.system - before.system)
            per_frame.append(spent / (sockets * frames) * 1e6)
            walls.append(wall)
            client.stdin.write("\n")
            client.stdin.flush()
        client.wait(60)
    finally:
        client.kill()
        server.kill()
        server.wait()
    return {
        "server_cpu_us_per_frame": round(statistics.median(per_frame), 1),
        "frames_per_s_wall": round(sockets * frames / statistics.median(walls)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", type=int)
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_run(args.client, args.sockets, args.frames, args.rounds))
        return
    results = {
        "sockets": args.sockets,
        "frames_per_socket_per_round": args.frames,
        "load_average_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    for stack, app in STACKS.items():
        for ws in IMPLEMENTATIONS:
            results[f"{stack} / {ws}"] = measure(
                app, ws, args.sockets, args.frames, args.rounds
            )
    results["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
