"""A web worker loads what serving requests needs, nothing more: numpy, the
generator, the webhook HTTP client and Celery belong to the processes that use them
(a Celery worker, or the request that generates or queues a backtest), so web
workers stay small. A process that does import a tasks module gets the project's
Celery app with it (core/background.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# What a web worker has loaded once the WSGI application and every URL are ready.
PROBE = """
import json, sys
import django
django.setup()
from alphaforge.wsgi import application
from django.urls import get_resolver
get_resolver().url_patterns
print(json.dumps(sorted(sys.modules)))
"""
WORKER_ONLY = (
    "numpy",
    "httpx",
    "signals.generation",
    "signals.backtest.services",
    "signals.backtest.runs",
    "celery.app",
    "kombu",
    "alphaforge.celery",
)
# Loaded only when their setting turns them on (LOG_FORMAT=json, an OTLP endpoint).
OFF_BY_DEFAULT = ("structlog", "opentelemetry", "opentelemetry.sdk")
# A process that imports a tasks module first, as `manage.py generate_signals
# --async` does: its tasks are sent through the project's app and its settings.
TASKS_PROBE = """
import json
import django
django.setup()
from signals.tasks import generate
from webhooks.tasks import send
print(json.dumps([generate.app.main, send.app.main, generate.app.conf.task_acks_late]))
"""


def run_fresh(probe: str) -> object:
    """What `probe` prints as JSON, run in a new interpreter."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "alphaforge.settings"}
    return json.loads(
        subprocess.run(
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )


def test_a_web_worker_does_not_load_worker_only_modules():
    loaded = set(run_fresh(PROBE))
    assert not loaded & set(WORKER_ONLY)
    assert not loaded & set(OFF_BY_DEFAULT)
    assert "signals.views" in loaded  # the probe did load the application


def test_importing_a_tasks_module_loads_the_project_celery_app():
    assert run_fresh(TASKS_PROBE) == ["alphaforge", "alphaforge", True]
