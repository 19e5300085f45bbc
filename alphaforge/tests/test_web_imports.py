"""A web worker loads what serving requests needs, nothing more: numpy, the
generator and the webhook HTTP client belong to the processes that use them (a
Celery worker, or the request that generates), so web workers stay small."""

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
WORKER_ONLY = ("numpy", "httpx", "signals.generation", "signals.backtest.services")


def test_a_web_worker_does_not_load_worker_only_modules():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "alphaforge.settings"}
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
        )
    )
    assert not loaded & set(WORKER_ONLY)
    assert "signals.views" in loaded  # the probe did load the application
