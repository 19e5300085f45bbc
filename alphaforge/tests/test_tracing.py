"""OpenTelemetry, in a fresh interpreter each (instrumentation is process-wide): off
by default; on, a request's server span and its SQL share one trace."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TRACED_REQUEST = """
import json
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from alphaforge.tracing import tracing_install
exporter = InMemorySpanExporter()
assert tracing_install(service="test", exporter=exporter)  # before Django, as wsgi.py
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
exporter.clear()
from django.test import Client
assert Client().get("/api/signals/").status_code == 200
spans = exporter.get_finished_spans()
print(json.dumps([[s.name, format(s.context.trace_id, "x"), s.kind.name] for s in spans]))
"""
OFF = """
import json, django
django.setup()
from alphaforge.tracing import tracing_install
from core.tracing import trace_parent
print(json.dumps([tracing_install(service="x"), trace_parent()]))
"""


def run_fresh(probe: str, tmp_path: Path, **env: str) -> object:
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "DJANGO_SETTINGS_MODULE": "alphaforge.settings",
        "VAR_DIR": str(tmp_path),
        **env,
    }
    environ.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_an_endpoint_nothing_is_traced(tmp_path):
    assert run_fresh(OFF, tmp_path) == [False, ""]


def test_a_request_and_its_queries_are_one_trace(tmp_path):
    spans = run_fresh(TRACED_REQUEST, tmp_path)
    servers = [s for s in spans if s[2] == "SERVER"]
    assert len(servers) == 1 and servers[0][0].startswith("GET")
    trace_id = servers[0][1]
    assert {s[1] for s in spans} == {trace_id}
    assert len(spans) >= 2  # the SQL of the page, under the request's span
