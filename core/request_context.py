"""The request id of the work in progress, readable by every layer.

The HTTP layer sets it for each request (api/request_id.py: the client's own
X-Request-ID when it is sane, else a new one); Celery carries it in the headers of
each task the request sends and sets it again while the task runs
(alphaforge/celery.py); log lines (core/logs.py) and webhook deliveries read it.
"""

import re
import uuid
from contextvars import ContextVar
from typing import Any

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The Django request being served, for the log lines' method, path and user.
current_request: ContextVar[Any] = ContextVar("current_request", default=None)


def request_id_from(value: str | None) -> str:
    """The client's id when it is 1-128 of [A-Za-z0-9._:-], else a new one."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return uuid.uuid4().hex
