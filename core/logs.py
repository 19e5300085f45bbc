"""Log lines that say which request they belong to, as text or as JSON.

`RequestContextFilter` puts the request id (and, inside a request, its method, path
and user id) on every record; `LOGGING` in the settings picks the text formatter or,
with LOG_FORMAT=json, `json_formatter`: one JSON object a line (time, level, logger,
message, request_id, method, path, status, duration_ms, user_id, exception), built by
structlog from the standard library's records.
"""

import logging
from typing import Any

from django.utils.functional import SimpleLazyObject, empty

from .request_context import current_request, request_id

NO_REQUEST = "-"  # the text format's request id outside any request or task
CONTEXT_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id")


def _user_id(request: Any) -> int | None:
    """The user's id when authentication already ran; never a query of its own."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return user.pk if user is not None and user.is_authenticated else None


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = (
            getattr(record, "request_id", None) or request_id.get() or NO_REQUEST
        )
        request = current_request.get()
        if request is not None:
            record.method = getattr(record, "method", request.method)
            record.path = getattr(record, "path", request.path)
            record.user_id = getattr(record, "user_id", None) or _user_id(request)
        return True


def _context(logger: Any, name: str, event: dict[str, Any]) -> dict[str, Any]:
    record = event.get("_record")
    for field in CONTEXT_FIELDS:
        value = getattr(record, field, None)
        if value is not None and value != NO_REQUEST:
            event[field] = value
    return event


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The settings' LOGGING: one handler on the root with the request filter.
    Django's own loggers hand their lines to it (no handler of their own), so a
    warning is printed once; only the formatter in use is built (structlog loads
    only for JSON lines)."""
    line = (
        {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
        if log_format == "text"
        else {"()": "core.logs.json_formatter"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "core.logs.RequestContextFilter"}},
        "formatters": {"line": line},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["request"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.db.backends": {"level": "INFO"},
            # A line per webhook POST at INFO would cost the senders CPU.
            "httpx": {"level": "WARNING"},
        },
    }


def json_formatter() -> logging.Formatter:
    import structlog

    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            _context,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ],
    )
