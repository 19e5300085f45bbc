"""Running an import (journal.imports queues it): `import_run` reads the stored
file with journal.parsers, skips the rows the account already has, checks the others
as the API does (JournalEntrySerializer) and writes them with `entries_bulk_create`,
a chunk at a time.

A duplicate is a row with the broker ticket of an entry of the account (or of an
earlier row of the file), or, without a ticket, with the same pair, direction,
times, prices and quantity. `atomic`: a refused row writes nothing at all.
"""

import csv
import io
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from .models import Import, JournalEntry
from .parsers import FileError, Refusal, read_rows
from .serializers import JournalEntrySerializer
from .services import entries_bulk_create

CHUNK = 500
KEY = (
    "pair",
    "direction",
    "opened_at",
    "closed_at",
    "entry_price",
    "exit_price",
    "quantity",
)


class _Refused(Exception):
    """Rolls an atomic import back."""


class _Refused(Exception):
    """Rolls an atomic import back."""


def import_run(*, import_id: int) -> Import:
    """Run a queued import (again after a worker died: a finished one is left)."""
    job = Import.objects.select_related("account").get(pk=import_id)
    if job.status in (Import.Status.DONE, Import.Status.FAILED):
        return job
    job.status, job.created, job.skipped, job.refused = Import.Status.RUNNING, 0, 0, []
    job.save(update_fields=["status", "created", "skipped", "refused"])
    try:
        if job.atomic:
            try:
                with transaction.atomic():
                    _rows_import(job)
                    if job.refused:
                        raise _Refused
            except _Refused:
                job.created = 0
        else:
            _rows_import(job)
        job.status = Import.Status.DONE
    except (FileError, UnicodeDecodeError, csv.Error) as error:
        job.status, job.error, job.created = Import.Status.FAILED, str(error), 0
    job.progress, job.finished_at, job.content = 1.0, timezone.now(), b""
    job.save()
    return job


def _rows_import(job: Import) -> None:
    size = max(len(job.content), 1)
    raw = io.BytesIO(bytes(job.content))
    lines = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    seen: set = set()
    chunk: list[tuple[int, Any]] = []
    for line, row in read_rows(job.format, lines, job.mapping):
        chunk.append((line, row))
        if len(chunk) == CHUNK:
            _chunk_import(job, chunk, seen)
            chunk = []
            if not job.atomic:
                job.progress = min(raw.tell() / size, 0.99)
                job.save(update_fields=["progress", "created", "skipped", "refused"])
    _chunk_import(job, chunk, seen)


def _local(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """Naive times are the account's local time."""
    for name in ("opened_at", "closed_at"):
        value = row.get(name)
        if value is not None and value.tzinfo is None:
            row[name] = value.replace(tzinfo=zone)
    return row


def _key(values: Any) -> tuple:
    get = values.get if isinstance(values, dict) else partial(getattr, values)
    return tuple(get(name) for name in KEY)


def _chunk_import(job: Import, chunk: list[tuple[int, Any]], seen: set) -> None:
    """Skip, refuse or insert one chunk of rows (three queries and the insert)."""
    zone = ZoneInfo(job.account.timezone)
    rows = []
    for line, row in chunk:
        if isinstance(row, Refusal):
            job.refused.append({"row": line, "reason": row.reason})
        else:
            rows.append((line, _local(row, zone)))
    entries = JournalEntry.objects.filter(account=job.account)
    tickets = [row["ticket"] for _, row in rows if row.get("ticket")]
    known = set(entries.filter(broker_ticket__in=tickets).values_list("broker_ticket"))
    seen |= {("ticket", ticket) for (ticket,) in known}
    # Rows without a ticket are matched on their content, among the account's
    # entries without one (none when every row has a ticket: no query then).
    opened = [
        r["opened_at"] for _, r in rows if r.get("opened_at") and not r.get("ticket")
    ]
    if opened:
        stored = entries.filter(broker_ticket="", opened_at__in=opened).only(*KEY)
        seen |= {("key", _key(entry)) for entry in stored}
    fresh = []
    for line, row in rows:
        ticket = row.pop("ticket", "")
        mark = ("ticket", ticket) if ticket else ("key", _key(row))
        if mark in seen:
            job.skipped += 1
            continue
        seen.add(mark)
        fresh.append((line, ticket, row))
    context = {"owner_id": job.owner_id, "accounts": {job.account_id: job.account}}
    # One serializer checks every row of the chunk, as POST /api/journal/ checks
    # a body: building its fields per row cost more than everything else.
    validator = JournalEntrySerializer(context=context)
    items = []
    for line, ticket, row in fresh:
        try:  # no query: the account is in the context
            data = validator.run_validation({**row, "account": job.account_id})
        except ValidationError as error:
            job.refused.append({"row": line, "reason": _reason(error.detail)})
            continue
        items.append({**data, "broker_ticket": ticket})
    if items and not (job.atomic and job.refused):
        job.created += len(entries_bulk_create(owner_id=job.owner_id, items=items))


def _reason(errors: dict[str, Any]) -> str:
    return "; ".join(
        f"{name}: {' '.join(str(problem) for problem in problems)}"
        for name, problems in errors.items()
    )
