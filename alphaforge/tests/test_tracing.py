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
WRITE_TO_WEBHOOK = """
import json
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from alphaforge.tracing import tracing_install
exporter = InMemorySpanExporter()
assert tracing_install(service="test", exporter=exporter)
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth.models import User
from django.test import Client
from signals.tests.factories import signal_payload
from webhooks.services import subscription_create
from webhooks.tasks import sweep
from webhooks.tests.receiver import receiver
staff = User.objects.create_user("staff", password="pw", is_staff=True)
owner = User.objects.create_user("owner", password="pw")
client = Client()
client.force_login(staff)
with receiver([200]) as hook:
    subscription_create(owner_id=owner.id, data={"url": hook.url})
    exporter.clear()
    answer = client.post("/api/signals/", signal_payload(), content_type="application/json")
    assert answer.status_code == 201, answer.content
    sweep.apply()  # what the woken worker runs: dispatch, then send
    assert len(hook.requests) == 1
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


def test_one_trace_spans_the_write_its_task_and_the_webhook_post(tmp_path):
    spans = run_fresh(
        WRITE_TO_WEBHOOK, tmp_path, WEBHOOK_ALLOW_PRIVATE="true", DEBUG="true"
    )
    (server,) = [s for s in spans if s[2] == "SERVER"]
    tasks = [s for s in spans if s[2] == "CONSUMER" or "sweep" in s[0]]
    posts = [s for s in spans if s[2] == "CLIENT" and s[0].startswith("POST")]
    delivers = [s for s in spans if s[0] == "webhook.deliver"]
    assert tasks, spans  # the task ran under its own span
    assert len(posts) == 1 and len(delivers) == 1, spans
    # The webhook POST continues the trace of the write that recorded the event.
    assert posts[0][1] == delivers[0][1] == server[1]


def test_without_an_endpoint_nothing_is_traced(tmp_path):
    assert run_fresh(OFF, tmp_path) == [False, ""]


def test_a_request_and_its_queries_are_one_trace(tmp_path):
    spans = run_fresh(TRACED_REQUEST, tmp_path)
    servers = [s for s in spans if s[2] == "SERVER"]
    assert len(servers) == 1 and servers[0][0].startswith("GET")
    trace_id = servers[0][1]
    assert {s[1] for s in spans} == {trace_id}
    assert len(spans) >= 2  # the SQL of the page, under the request's span
