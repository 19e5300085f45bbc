"""Queuing an import of a trade file: `import_create` stores the file and has
journal.import_runs.import_run run it as a task (journal.tasks) once committed."""

from functools import partial

from django.db import transaction

from .models import Account, Import


def import_create(
    *,
    owner_id: int,
    account: Account,
    format: str,
    content: bytes,
    mapping: dict[str, str] | None = None,
    atomic: bool = True,
    enqueue: bool = True,
) -> Import:
    """Store a queued import; it runs as a task once the row is committed."""
    with transaction.atomic():
        job = Import.objects.create(
            owner_id=owner_id,
            account=account,
            format=format,
            mapping=mapping or {},
            atomic=atomic,
            content=content,
        )
        if enqueue:
            transaction.on_commit(partial(_enqueue, job.pk))
    return job


def _enqueue(import_id: int) -> None:
    # Here, not at the top: only a process that queues an import loads Celery.
    from .tasks import journal_import

    journal_import.delay(import_id)
