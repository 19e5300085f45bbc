"""Queuing a backtest asked for over the API: `backtest_create` stores it and
`backtest_enqueue` starts `signals.backtest.runs.backtest_run` once the row is
committed, as a task (`signals.tasks.backtest`) or in a thread of this process.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from signals.models import Backtest

from .runs import backtest_run


def _run_in_thread(backtest_id: int) -> None:
    try:
        backtest_run(backtest_id=backtest_id)
    finally:
        connections.close_all()


def backtest_enqueue(backtest: Backtest) -> None:
    """Start the run once the row is committed: a task for the workers when there is
    a broker; on the embedded default a daemon thread of this process (an eager task
    would hold the request until the run ends)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        # Here, not at the top: only a process with a broker loads Celery (see
        # core.background); tasks.py imports the run, not this module.
        from signals.tasks import backtest as backtest_task

        transaction.on_commit(lambda: backtest_task.delay(backtest.pk))
        return
    transaction.on_commit(
        lambda: threading.Thread(
            target=_run_in_thread,
            args=(backtest.pk,),
            name=f"backtest-{backtest.pk}",
            daemon=True,
        ).start()
    )


def backtest_create(*, options: dict[str, Any], user: Any) -> Backtest:
    """Store a queued backtest and have it run once the row is committed."""
    with transaction.atomic():
        backtest = Backtest.objects.create(
            pair=options["pair"],
            timeframe=options["timeframe"],
            since=options.get("since"),
            until=options.get("until"),
            folds=options.get("folds", 5),
            optimize=options.get("optimize") or "",
            strategy=options.get("strategy") or "trend_momentum",
            created_by=user if user and user.is_authenticated else None,
        )
        backtest_enqueue(backtest)
    return backtest
