"""Helpers of the tests that start real server processes on loopback."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command in a child process; its standard output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


def server_stop(proc: subprocess.Popen) -> tuple[int, str]:
    """Stop a server started in a session of its own (start_new_session) with
    SIGTERM, as an orchestrator would: its exit code and output (stdout piped,
    stderr into it). Failing to stop within 20 s kills it and fails the test."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail("server did not stop within 20 s of SIGTERM")
    output = proc.stdout.read().decode(errors="replace")
    proc.stdout.close()
    return code, output
