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

from .models import Event, Prune

logger = logging.getLogger(__name__)
# Channel-layer group every process's tailer (events.tailer) listens on.
EVENTS_GROUP = "events"
# pg_advisory_xact_lock key of the log ("AFEVENTS" in ASCII, as a bigint).
LOG_LOCK = 0x4146_4556_454E_5453
BATCH_SIZE = 5000
NOTIFY_TIMEOUT, NOTIFY_BACKOFF = 0.25, 5.0  # seconds (events_notify)
_notify_failed_at = -NOTIFY_BACKOFF
# Off only to measure what the lock costs (bench/events.py); never in production.
LOCK_IDS_IN_COMMIT_ORDER = True


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
    already. Tailers are woken on commit.
    """
    if not events:
        return []
    now = timezone.now()
    rows = [
        Event(
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
        if connection.vendor == "postgresql" and LOCK_IDS_IN_COMMIT_ORDER:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOG_LOCK])
        created = Event.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        transaction.on_commit(events_notify)
    return created


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
