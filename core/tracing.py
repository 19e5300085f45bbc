"""The current trace's context, for work that continues elsewhere (an event that a
webhook delivery will carry on). Empty and free unless the process installed
tracing (alphaforge/tracing.py, only with OTEL_EXPORTER_OTLP_ENDPOINT)."""

import contextlib
from typing import Any

_state = {"installed": False}


def tracing_mark_installed() -> None:
    _state["installed"] = True


def trace_parent() -> str:
    """The current span as a W3C `traceparent` value; "" when not tracing."""
    if not _state["installed"]:
        return ""
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent", "")


def traced(name: str, parent: str) -> Any:
    """A span continuing `parent` (a stored traceparent), or a no-op when off."""
    if not _state["installed"]:
        return contextlib.nullcontext()
    from opentelemetry import trace
    from opentelemetry.propagate import extract

    context = extract({"traceparent": parent} if parent else {})
    return trace.get_tracer("alphaforge").start_as_current_span(name, context=context)
