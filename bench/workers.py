"""Celery worker processes for the benchmarks (loopback broker, killed at the end)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def workers_start(
    count: int, *, concurrency: int, name: str, log_dir: Path | None = None
) -> list[subprocess.Popen]:
    """`count` workers of `concurrency` processes each, with this environment."""
    procs = []
    for n in range(count):
        log = (log_dir / f"{name}{n}.log").open("w") if log_dir else subprocess.DEVNULL
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "alphaforge",
                    "worker",
                    "-n",
                    f"{name}{n}@%h",
                    "-c",
                    str(concurrency),
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel=WARNING",
                ],  # fmt: skip
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopping takes the pool too
            )
        )
    time.sleep(6)  # a worker connects and is ready in about 2 s here
    return procs


def workers_stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
