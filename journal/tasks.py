"""The journal's background work: imports of trade files."""

from core.background import shared_task

from .import_runs import import_run


@shared_task(name="journal.import", acks_late=True)
def journal_import(import_id: int) -> str:
    """Run one queued import (safe to run twice: a finished one is left alone)."""
    return import_run(import_id=import_id).status


@shared_task(name="journal.excursions", acks_late=True)
def journal_excursions(ids: list[int]) -> int:
    """Compute the excursions of entries written in bulk (an import)."""
    from .services import entries_excursions_fill

    return entries_excursions_fill(ids=ids)
