"""The Celery application: workers run `celery -A alphaforge worker`, the schedule
`celery -A alphaforge beat` (exactly one beat for the whole deployment).

Its configuration is the CELERY_* settings (alphaforge/settings.py); tasks live in
each app's tasks.py. With no REDIS_URL (the embedded default) tasks run eagerly in the
process that sends them and `manage.py run_schedule` keeps the schedule.
"""

import os
import threading
from typing import Any

from celery import Celery, bootsteps
from celery.signals import (
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_process_init,
)

from core.request_context import request_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

app = Celery("alphaforge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _trace_worker(**kwargs: Any) -> None:
    """Each worker process traces itself (only with OTEL_EXPORTER_OTLP_ENDPOINT)."""
    from alphaforge.tracing import tracing_install

    tracing_install(service="alphaforge-worker")


@before_task_publish.connect
def _carry_request_id(headers: dict | None = None, **kwargs: Any) -> None:
    """A task sent while serving a request carries its id in the message headers."""
    value = request_id.get()
    if value and headers is not None:
        headers.setdefault("request_id", value)


@task_prerun.connect
def _adopt_request_id(task: Any = None, **kwargs: Any) -> None:
    """While the task runs, its log lines (and what it sends) carry that id."""
    value = getattr(task.request, "request_id", None)
    if value:
        task.request.request_id_token = request_id.set(value)


@task_postrun.connect
def _drop_request_id(task: Any = None, **kwargs: Any) -> None:
    token = getattr(task.request, "request_id_token", None)
    if token is not None:
        request_id.reset(token)
        task.request.request_id_token = None


class WebhookWake(bootsteps.StartStopStep):
    """Each worker's listener for commits that recorded events (webhooks.wake): a
    daemon thread that sends the webhook sweep when one is pushed."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.stop_event = threading.Event()

    def start(self, parent: Any) -> None:
        from django.conf import settings

        from webhooks.tasks import sweep
        from webhooks.wake import wake_loop

        if settings.REDIS_URL:
            threading.Thread(
                target=wake_loop,
                args=(settings.REDIS_URL, self.stop_event, sweep),
                name="webhook-wake",
                daemon=True,
            ).start()

    def stop(self, parent: Any) -> None:
        self.stop_event.set()


app.steps["worker"].add(WebhookWake)


# When a candle of each timeframe closes (UTC). The run waits
# GENERATION_DELAY_SECONDS more, for the candle to be stored.
CANDLE_CLOSES = {
    "1m": {},
    "5m": {"minute": "*/5"},
    "15m": {"minute": "*/15"},
    "30m": {"minute": "*/30"},
    "1h": {"minute": "0"},
    "4h": {"minute": "0", "hour": "*/4"},
    "1d": {"minute": "0", "hour": "0"},
}


def beat_schedule() -> dict:
    """Generation for SIGNAL_PAIRS x SIGNAL_TIMEFRAMES after each candle close,
    outcome backfill every BACKFILL_EVERY_MINUTES, event pruning daily, and the
    webhook sweep every second (new events become deliveries; due deliveries are
    sent)."""
    from datetime import timedelta

    from celery.schedules import crontab
    from celery.schedules import schedule as every
    from django.conf import settings

    schedule = {
        f"generate-{timeframe}": {
            "task": "signals.generate",
            "schedule": crontab(**CANDLE_CLOSES[timeframe]),
            "args": (timeframe,),
            "options": {"countdown": settings.GENERATION_DELAY_SECONDS},
        }
        for timeframe in settings.SIGNAL_TIMEFRAMES
    }
    schedule["backfill"] = {
        "task": "signals.backfill",
        "schedule": crontab(minute=f"*/{settings.BACKFILL_EVERY_MINUTES}"),
    }
    schedule["fit-calibrations"] = {
        "task": "signals.fit_calibrations",
        "schedule": crontab(minute="7"),  # hourly, after the hour's backfills
    }
    schedule["prune-events"] = {
        "task": "events.prune",
        "schedule": crontab(minute="17", hour="3"),
    }
    schedule["prune-idempotency"] = {
        "task": "api.prune_idempotency",
        "schedule": crontab(minute="47", hour="3"),
    }
    schedule["webhooks-sweep"] = {
        "task": "webhooks.sweep",
        "schedule": every(timedelta(seconds=1)),
        # A sweep is only worth running while it is fresh.
        "options": {"expires": 5},
    }
    return schedule


@app.on_after_configure.connect
def _install_schedule(sender: Celery, **kwargs: object) -> None:
    sender.conf.beat_schedule = beat_schedule()
