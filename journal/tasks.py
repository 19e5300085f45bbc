"""The journal's background work: imports of trade files."""

from core.background import shared_task

from .import_runs import import_run


@shared_task(name="journal.import", acks_late=True)
def journal_import(import_id: int) -> str:
    """Run one queued import (safe to run twice: a finished one is left alone)."""
    return import_run(import_id=import_id).status
