"""Journal import of a large generic CSV on PostgreSQL (not a test).

    DATABASE_URL=postgres://… python bench/journal_import.py [ROWS] [--keep]

Writes a ROWS-row (default 100,000) generic CSV in memory (closed EUR/USD-style
trades with tickets, fees, swaps, tags; thousands separators in the quantity),
queues it as an import for a fresh user's account and runs it in this process
exactly as the journal.import task does (journal.import_runs.import_run), then
imports the same file again (everything skipped). Reports the seconds of each,
the rows created and skipped, and the process's peak RSS growth over the first
import (sampled every 10 ms). The migrated database must exist; the bench user
and its entries are deleted afterwards unless --keep is given.
"""

import io
import json
import os
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    sys.exit(
        "bench/journal_import.py measures PostgreSQL: set DATABASE_URL=postgres://…"
    )

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from journal.import_runs import import_run  # noqa: E402
from journal.models import Import, JournalEntry  # noqa: E402
from journal.services import account_default  # noqa: E402

USERNAME = "bench-journal-import"
HEADER = "ticket,pair,direction,entry_price,exit_price,stop_loss,quantity,"
HEADER += "opened_at,closed_at,fees,swap,tags\n"


def csv_file(rows: int) -> bytes:
    rng = random.Random(42)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    out = io.StringIO()
    out.write(HEADER)
    for n in range(rows):
        entry = 1.1 + rng.randint(-500, 500) / 10000
        exit_ = entry + rng.randint(-60, 60) / 10000
        opened = start + timedelta(minutes=30 * n)
        closed = opened + timedelta(minutes=rng.randint(5, 600))
        out.write(
            f"T{n},EUR/USD,{rng.choice(['buy', 'sell'])},{entry:.5f},{exit_:.5f},"
            f'{entry - 0.002:.5f},"{rng.randint(1, 20)},000",'
            f"{opened:%Y-%m-%dT%H:%M:%SZ},{closed:%Y-%m-%dT%H:%M:%SZ},"
            f"{rng.randint(0, 900) / 100},{rng.randint(-300, 100) / 100},"
            f'"{rng.choice(["breakout", "range", "news"])}"\n'
        )
    return out.getvalue().encode()


def timed_import(owner, account, content: bytes, watch: bool) -> dict:  # type: ignore[no-untyped-def]
    job = Import.objects.create(
        owner=owner, account=account, format="csv", content=content, atomic=False
    )
    process, peak, stop = psutil.Process(), [0], threading.Event()
    before = process.memory_info().rss

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    if watch:
        sampler.start()
    started = time.perf_counter()
    job = import_run(import_id=job.id)
    seconds = time.perf_counter() - started
    stop.set()
    if watch:
        sampler.join()
    result = {
        "seconds": round(seconds, 2),
        "status": job.status,
        "created": job.created,
        "skipped": job.skipped,
        "refused": len(job.refused),
    }
    if watch:
        result["peak_rss_growth_mib"] = round((peak[0] - before) / 2**20, 1)
    return result


def main() -> None:
    rows = int(next((a for a in sys.argv[1:] if a.isdigit()), 100_000))
    users = get_user_model().objects
    users.filter(username=USERNAME).delete()
    owner = users.create_user(USERNAME, password="bench")
    account = account_default(owner_id=owner.id)
    content = csv_file(rows)
    report = {
        "rows": rows,
        "file_mib": round(len(content) / 2**20, 1),
        "load_average_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    try:
        report["import"] = timed_import(owner, account, content, watch=True)
        report["reimport"] = timed_import(owner, account, content, watch=False)
        report["entries"] = JournalEntry.objects.filter(owner=owner).count()
    finally:
        if "--keep" not in sys.argv:
            JournalEntry.objects.filter(owner=owner).delete()
            owner.delete()
    report["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
