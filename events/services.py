"""Writes to the event log. Domain apps call `events_record` inside the transaction
of the change it describes; nothing here imports them."""

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from core.batch_sql import document_insert, field_types
from core.request_context import request_id
from core.tracing import trace_parent

from .commits import commit_hooks_run
from .models import Event, Prune

logger = logging.getLogger(__name__)
# Channel-layer group every process's tailer (events.tailer) listens on.
EVENTS_GROUP = "events"
# pg_advisory_xact_lock key of the log ("AFEVENTS" in ASCII, as a bigint).
LOG_LOCK = 0x4146_4556_454E_5453
BATCH_SIZE = 5000
NOTIFY_TIMEOUT, NOTIFY_BACKOFF = 0.25, 5.0  # seconds (events_notify)
_notify_failed_at = -NOTIFY_BACKOFF
# What the document insert writes of each row, in its order; occurred_at is the
# batch's time.
INSERT_FIELDS = ("type", "pair", "timeframe", "confidence", "data")


def _confidence(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def events_record(*, events: Sequence[tuple[str, dict[str, Any]]]) -> list[Event]:
    """Append (type, payload) events to the log, in the caller's transaction.

    Call it last in the writing transaction. On PostgreSQL it first takes a
    transaction-level advisory lock held until commit, so ids are handed out in
    commit order: once an id is visible, every smaller id is visible or was rolled
    back, and a reader tailing `id > after` skips nothing. SQLite serialises writers
    already. Tailers, and the hooks other apps registered, are woken on commit.
    """
    if not events:
        return []
    now = timezone.now()
    cause = {"request_id": request_id.get() or "", "trace_parent": trace_parent()}
    rows = [
        Event(
            **cause,
            type=kind,
            occurred_at=now,
            pair=str(payload.get("pair") or ""),
            timeframe=str(payload.get("timeframe") or ""),
            confidence=_confidence(payload.get("confidence")),
            data=payload,
        )
        for kind, payload in events
    ]
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOG_LOCK])
        for start in range(0, len(rows), BATCH_SIZE):
            _insert(rows[start : start + BATCH_SIZE], now, cause)
        transaction.on_commit(events_notify)
        transaction.on_commit(commit_hooks_run)
    return rows


def _insert(rows: list[Event], now: Any, cause: dict[str, str]) -> None:
    """Insert rows and give them their ids. On PostgreSQL the rows travel as one
    JSON document (core.batch_sql.document_insert): bulk_create's jsonb[] literal
    made psycopg escape every quote of every payload in Python, which cost more
    than building the payloads did."""
    if connection.vendor != "postgresql":
        Event.objects.bulk_create(rows)
        return
    meta = Event._meta
    ids = document_insert(
        table=meta.db_table,
        columns=field_types(meta.get_field(name) for name in INSERT_FIELDS),
        rows=[
            [row.type, row.pair, row.timeframe, _text(row.confidence), row.data]
            for row in rows
        ],
        constants=[
            (meta.get_field("occurred_at").column, now),
            *((meta.get_field(name).column, value) for name, value in cause.items()),
        ],
        encoder=JSONEncoder,  # the data column's: the stored JSON is the same
    )
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


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
