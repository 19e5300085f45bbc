"""Writing results: a section of BENCHMARKS.md, the rows of BENCHMARKS.json, and the
lines every section shares (the machine, the figures' helpers)."""

import json
import os
import platform
import subprocess
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.scenarios import Result


def write_section(
    path: Path, text: str, heading: str = "## HTTP benchmark (bench/run.py)"
) -> None:
    """Replace our section (up to the next level-2 heading) or append it."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    start = current.find(heading)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        after = current.find("\n## ", start + len(heading))
        rest = current[after + 1 :] if after != -1 else ""
        updated = (
            current[:start] + text.rstrip("\n") + "\n" + ("\n" + rest if rest else "")
        )
    path.write_text(updated)


def section_name(heading: str, subheading: str) -> str:
    """A BENCHMARKS.json section: "HTTP benchmark (bench/run.py) / Single requests"."""
    return f"{heading.lstrip('#').strip()} / {subheading.lstrip('#').strip()}"


def result_row(
    section: str,
    scenario: str,
    app: dict[str, Any] | None,
    floor: dict[str, Any] | None = None,
    ratio: float | None = None,
    target: str | None = None,
    met: bool | None = None,
) -> dict[str, Any]:
    """One row of BENCHMARKS.json; target and met are None where none is defined."""
    return {
        "section": section,
        "scenario": scenario,
        "app": app,
        "floor": floor,
        "ratio": ratio,
        "target": target,
        "met": met,
    }


def figures(result: Result, **extra: Any) -> dict[str, Any]:
    return {**asdict(result), **extra}


def write_results(path: Path, heading: str, rows: list[dict[str, Any]]) -> None:
    """Replace the rows of every section under `heading` (a script's BENCHMARKS.md
    heading) by `rows`, keeping the other scripts' rows."""
    owner = heading.lstrip("#").strip()
    current = json.loads(path.read_text()) if path.exists() else []
    kept = [
        row
        for row in current
        if row.get("section") != owner
        and not str(row.get("section", "")).startswith(owner + " / ")
    ]
    path.write_text(json.dumps(kept + rows, indent=2, ensure_ascii=False) + "\n")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def upper_median(values: list[float]) -> float:
    """The middle value, the upper one of an even count (bench/operations.py's
    figures have always been reported this way)."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def fmt_seconds(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "–"


def machine(
    redis_url: str, postgres_version: str, load_before: str, load_after: str
) -> list[str]:
    """The machine, the packages and the services the figures were measured on."""
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    from importlib.metadata import version

    import redis

    packages = ", ".join(
        f"{name} {version(name)}"
        for name in (
            "Django",
            "djangorestframework",
            "gunicorn",
            "uvicorn",
            "uvicorn-worker",
            "granian",
            "psycopg",
            "psycopg-pool",
            "orjson",
        )
    )
    client = redis.Redis.from_url(redis_url)
    redis_version = client.info("server")["redis_version"]
    client.close()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_version = (wrk.stdout + wrk.stderr).split()[1]
    return [
        f"- Machine: {os.cpu_count()} CPUs (nproc), {memory} RAM, {cpu}; "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; {packages}",
        f"- PostgreSQL {postgres_version} (scripts/services.sh: "
        f"fsync=off, max_connections=200, otherwise defaults), Redis "
        f"{redis_version}, wrk {wrk_version}",
        f"- Load average before/after: {load_before} / {load_after}",
    ]
