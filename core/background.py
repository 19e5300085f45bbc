"""Background tasks' decorator: Celery's `shared_task`, with the project's Celery app
loaded first.

Django projects usually import their Celery app in the settings package's
`__init__`, so that every process has it before a task is sent. That loads Celery
(~8 MiB) into every web worker, which sends a task only when a backtest is queued.
Instead each app's tasks.py declares its tasks with this decorator: whichever process
imports a tasks module (a worker, beat, a command with --async, the request that
queues a backtest) loads the app named by settings.TASK_APPLICATION there, so the
task is sent with its broker and options (or run eagerly without a broker), and a
process that never imports one never loads Celery.
"""

from typing import Any

from celery import shared_task as celery_shared_task
from django.conf import settings
from django.utils.module_loading import import_string


def shared_task(*args: Any, **options: Any) -> Any:
    """`celery.shared_task(*args, **options)` once the project's app exists."""
    import_string(settings.TASK_APPLICATION)
    return celery_shared_task(*args, **options)
