"""Writes to the event log. Domain apps call `events_record` inside the transaction
of the change it describes; nothing here imports them."""

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.request_context import request_id
from core.tracing import trace_parent

from .commits import commit_hooks_run
from .models import Event, Prune
from .serializers import event_json

logger = logging.getLogger(__name__)
# Channel-layer group every process's tailer (events.tailer) listens on.
EVENTS_GROUP = "events"
# pg_advisory_xact_lock key of the log ("AFEVENTS" in ASCII, as a bigint).
LOG_LOCK = 0x4146_4556_454E_5453
BATCH_SIZE = 5000
NOTIFY_TIMEOUT, NOTIFY_BACKOFF = 0.25, 5.0  # seconds (events_notify)
_notify_failed_at = -NOTIFY_BACKOFF
# What the COPY writes of each row, in its order (the model's field order).
COPY_FIELDS = (
    "id", "type", "occurred_at", "pair", "timeframe", "confidence", "body",
    "request_id", "trace_parent",
)  # fmt: skip


def _confidence(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


class RecordedEvent(NamedTuple):
    """An event as events_record wrote it."""

    id: int
    type: str
    body: str  # its JSON, as stored

    @property
    def data(self) -> dict[str, Any]:
        return orjson.loads(self.body)["data"]


def events_record(
    *, events: Sequence[tuple[str, dict[str, Any]]]
) -> list[RecordedEvent]:
    """Append (type, payload) events to the log, in the caller's transaction.

    Call it last in the writing transaction. On PostgreSQL it first takes a
    transaction-level advisory lock held until commit, so ids are handed out in
    commit order: once an id is visible, every smaller id is visible or was rolled
    back, and a reader tailing `id > after` skips nothing. SQLite serialises writers
    already. Each event's JSON (events.serializers.event_json) is encoded here,
    once, and stored. Tailers, and the hooks other apps registered, are woken on
    commit.
    """
    if not events:
        return []
    now = timezone.now()
    cause = (request_id.get() or "", trace_parent())
    recorded: list[RecordedEvent] = []
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _commit_order_lock()
        for start in range(0, len(events), BATCH_SIZE):
            batch = events[start : start + BATCH_SIZE]
            if connection.vendor == "postgresql":
                recorded += _copy(batch, now, cause)
            else:
                recorded += _bulk_create(batch, now, cause)
        transaction.on_commit(events_notify)
        transaction.on_commit(commit_hooks_run)
    return recorded


def _commit_order_lock() -> None:
    """Hold the log's lock until this transaction ends: the next writer takes its
    ids after this one's commit. (events/tests/test_gapless.py replaces it with a
    no-op to show that without it a tailing reader loses events.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOG_LOCK])


def _values(
    pk: int | None, kind: str, now: datetime, payload: dict, body: str, cause: tuple
) -> tuple:
    """A row's values in COPY_FIELDS order; the filter columns are copied from
    the payload."""
    pair, timeframe = payload.get("pair"), payload.get("timeframe")
    confidence = _confidence(payload.get("confidence"))
    return (pk, kind, now, str(pair or ""), str(timeframe or ""), confidence, body,
            *cause)  # fmt: skip


def _copy(
    events: Sequence[tuple[str, dict[str, Any]]], now: datetime, cause: tuple
) -> list[RecordedEvent]:
    """PostgreSQL: take the batch's ids from the sequence first (in order, under
    the log's lock), so each JSON is complete before the rows travel, then COPY
    them: one statement, no model instance, no per-value escaping in Python."""
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(Event._meta.get_field(name).column)
        for name in COPY_FIELDS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
            "FROM generate_series(1, %s)",
            [Event._meta.db_table, len(events)],
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
        recorded = [
            RecordedEvent(
                pk, kind, event_json(id=pk, type=kind, occurred_at=now, data=payload)
            )
            for pk, (kind, payload) in zip(ids, events, strict=True)
        ]
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for event, (_, payload) in zip(recorded, events, strict=True):
                copy.write_row(
                    _values(event.id, event.type, now, payload, event.body, cause)
                )
    return recorded


def _bulk_create(
    events: Sequence[tuple[str, dict[str, Any]]], now: datetime, cause: tuple
) -> list[RecordedEvent]:
    """SQLite: the ids come from the insert, the JSON follows (one executemany)."""
    rows = Event.objects.bulk_create(
        Event(**dict(zip(COPY_FIELDS, values, strict=True)))
        for values in (_values(None, k, now, p, "", cause) for k, p in events)
    )
    recorded = [
        RecordedEvent(
            row.pk,
            kind,
            event_json(id=row.pk, type=kind, occurred_at=now, data=payload),
        )
        for row, (kind, payload) in zip(rows, events, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {Event._meta.db_table} SET body = %s WHERE id = %s",
            [(event.body, event.id) for event in recorded],
        )
    return recorded


def events_notify() -> None:
    """Wake every process's tailer now (the channel layer group); their poll
    covers a layer that is missing, process-local, slow or down. Never delays the
    write by more than NOTIFY_TIMEOUT, and skips the layer for NOTIFY_BACKOFF
    seconds after it failed (a hanging Redis costs one timeout, not one a write)."""
    global _notify_failed_at
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None or time.monotonic() - _notify_failed_at < NOTIFY_BACKOFF:
        return

    async def wake() -> None:
        message = {"type": "events.committed"}
        await asyncio.wait_for(layer.group_send(EVENTS_GROUP, message), NOTIFY_TIMEOUT)

    try:
        async_to_sync(wake)()
    except Exception:
        _notify_failed_at = time.monotonic()
        logger.warning("event tailers not woken: channel layer failed", exc_info=True)


def events_prune(*, days: int | None = None) -> int:
    """Delete the events older than `days` (EVENT_RETENTION_DAYS), oldest first as
    one prefix of ids, and remember the last id deleted (for the 410)."""
    days = settings.EVENT_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        last = Event.objects.filter(occurred_at__lt=cutoff).aggregate(last=Max("id"))
        if last["last"] is None:
            return 0
        deleted, _ = Event.objects.filter(id__lte=last["last"]).delete()
        Prune.objects.create(pruned_through=last["last"])
    return deleted


def events_pruned_past(after: int) -> int | None:
    """The oldest kept id when pruning deleted events after `after` (a reader there
    must resynchronise), else None. One query unless so."""
    pruned_through = Prune.objects.aggregate(last=Max("pruned_through"))["last"] or 0
    if after >= pruned_through:
        return None
    oldest = Event.objects.order_by("id").values_list("id", flat=True).first()
    return oldest or pruned_through + 1
