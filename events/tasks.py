"""The event log's scheduled work."""

from core.background import shared_task

from .services import events_prune


@shared_task(name="events.prune")
def prune() -> int:
    """Delete events older than EVENT_RETENTION_DAYS (safe to run twice)."""
    return events_prune()
