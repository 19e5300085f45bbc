"""OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.

When it is set, each process (web server, Celery worker) installs a tracer provider
that exports over OTLP/HTTP (the standard OTEL_* variables configure the exporter,
OTEL_SERVICE_NAME the service) and the official instrumentations: Django, psycopg
and sqlite3, Redis, Celery (the trace context travels in the task's message
headers) and httpx (the webhook POSTs). When it is not set nothing here is
imported: web workers load none of OpenTelemetry (tests/test_web_imports.py).
"""

import os
from typing import Any

from core.tracing import tracing_mark_installed

_installed = False


def tracing_enabled() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def tracing_install(*, service: str, exporter: Any = None) -> bool:
    """Install the provider and the instrumentations once in this process; True
    when tracing is on. `exporter` replaces OTLP (tests pass an in-memory one)."""
    global _installed
    if _installed:
        return True
    if exporter is None and not tracing_enabled():
        return False
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or service
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    PsycopgInstrumentor().instrument(enable_commenter=False)
    RedisInstrumentor().instrument()
    SQLite3Instrumentor().instrument()
    CeleryInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    tracing_mark_installed()  # core.tracing: events carry the context on
    _installed = True
    return True
