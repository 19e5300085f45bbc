"""The embedded default's scheduler: the beat schedule, run in this process."""

import logging
import time
from datetime import UTC, datetime

from django.core.management.base import BaseCommand

from alphaforge.celery import app, beat_schedule


class Command(BaseCommand):
    help = (
        "Run the background schedule (generation after each candle close, backfill) "
        "in this process, for the embedded default without a broker. With REDIS_URL "
        "run `celery -A alphaforge beat` (exactly one) and workers instead."
    )

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--tick", type=float, default=1.0, help="seconds between checks"
        )

    def handle(self, *args: object, tick: float, **options: object) -> None:
        app.loader.import_default_modules()  # the apps' tasks.py
        # Not a line a second for the webhook sweep: runs that did something, errors.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        entries = beat_schedule()
        started = datetime.now(UTC)
        # As celery beat does: an entry first runs at its next due time, not at once.
        last_run = {name: started for name in entries}
        pending: list[tuple[float, str]] = []  # (monotonic time to run, entry name)
        self.stdout.write(f"schedule: {', '.join(sorted(entries))}")
        while True:
            now = datetime.now(UTC)
            for name, entry in entries.items():
                due, _ = entry["schedule"].is_due(last_run[name])
                if due:
                    last_run[name] = now
                    delay = entry.get("options", {}).get("countdown", 0)
                    pending.append((time.monotonic() + delay, name))
            for item in [item for item in pending if item[0] <= time.monotonic()]:
                pending.remove(item)
                self._run(item[1], entries[item[1]])
            time.sleep(tick)

    def _run(self, name: str, entry: dict) -> None:
        task = app.tasks[entry["task"]]
        try:
            result = task.apply(args=entry.get("args", ()), throw=True)
            if result.result:
                self.stdout.write(
                    f"{datetime.now(UTC):%H:%M:%S} {name}: {result.result}"
                )
        except Exception as error:  # one failed run must not stop the schedule
            self.stderr.write(f"{name} failed: {error!r}")
