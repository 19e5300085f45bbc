"""Writes to signals: the API, admin, commands and generation all go through here."""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import Signal as Event
from django.utils import timezone

from core.batch_sql import DOCUMENT_BATCH
from core.validators import NUL_MESSAGE, decimal_fits, json_has_nul, overflow_message
from core.vocabulary import EventType
from events.services import events_record
from market.pricing import pip_size, pips, risk_reward

from .cache_versions import CELL_FIELDS, Cell, cell_of, signals_changed
from .choices import Status
from .models import Signal, SignalRollup
from .rollup import (
    rollup_add,
    rollup_contributions,
    rollup_delta,
    rollup_merge,
    rollup_rebuild,
    rollup_rows_add,
)
from .storage.forms import detail_forms, detail_forms_of_rows
from .storage.writes import (
    fields_batch_size,
    fields_write,
    outcomes_write,
    signals_store,
)

UNIQUE_KEY = ("pair", "timeframe", "strategy", "timestamp")
DUPLICATE_MESSAGE = "A signal for this pair, timeframe, strategy and timestamp exists."
# The inputs each derived value comes from: a value past its column is their fault.
DERIVED_FROM = {"risk_reward": ("stop_loss", "take_profit"), "pips": ("exit_price",)}
logger = logging.getLogger(__name__)
# Sent inside the deleting transaction, before the rows go, with `ids`: apps that
# keep answers about those signals (the journal) invalidate them on commit.
signals_deleting = Event()


def _details(signals: Sequence[Signal]) -> list[dict[str, Any]]:
    """The detail form (GET /api/signals/{id}/) of signals in memory: no query.
    (Column values not in a model instance: storage.forms.detail_forms_of_rows.)"""
    return detail_forms(signals)


def _change_type(was: str | None, signal: Signal) -> str:
    """The contract's rule: resolved when the status left active, else updated."""
    if was == Status.ACTIVE and signal.status != Status.ACTIVE:
        return EventType.RESOLVED
    return EventType.UPDATED


def signals_record(*, signals: Sequence[Signal], types: Sequence[str]) -> None:
    """Log one event per signal (its detail form) in the writing transaction."""
    events_record(events=list(zip(types, _details(signals), strict=True)))


class BulkError(Exception):
    """Some items of an all-or-nothing write are invalid; nothing was written."""

    def __init__(self, errors: dict[str, dict[str, list[str]]]) -> None:
        super().__init__(errors)
        self.errors = errors


def signal_derive(signal: Signal) -> Signal:
    """Fill the server-computed fields (risk_reward, pips) from the others."""
    signal.risk_reward = risk_reward(
        signal.entry_price, signal.stop_loss, signal.take_profit
    )
    if signal.exit_price is not None:
        pip = pip_size(signal.pair, settings.PIP_SIZES)
        signal.pips = pips(signal.direction, signal.entry_price, signal.exit_price, pip)
    return signal


def signal_errors(signal: Signal) -> dict[str, list[str]]:
    """Why a derived signal cannot be stored, by the input field at fault: a derived
    value past its column, or a NUL in `indicators`. Empty when it can."""
    errors: dict[str, list[str]] = {}
    for name, inputs in DERIVED_FROM.items():
        value, field = getattr(signal, name), Signal._meta.get_field(name)
        if value is not None and not decimal_fits(field, value):
            for input_name in inputs:
                errors.setdefault(input_name, []).append(overflow_message(field))
    if json_has_nul(signal.indicators):
        errors["indicators"] = [NUL_MESSAGE]
    return errors


def _unstorable(signals: Sequence[Signal]) -> dict[str, dict[str, list[str]]]:
    """signal_errors of every derived signal, by its index."""
    errors = {}
    for index, signal in enumerate(signals):
        problems = signal_errors(signal)
        if problems:
            errors[str(index)] = problems
    return errors


def _key(data: Any) -> tuple:
    get = data.get if isinstance(data, dict) else lambda name: getattr(data, name)
    return (
        get("pair"),
        get("timeframe"),
        get("strategy") or "manual",
        get("timestamp"),
    )


def _duplicates(signals: Sequence[Signal]) -> dict[str, dict[str, list[str]]]:
    """Items whose unique key repeats an earlier item or a stored signal (one query)."""
    seen: dict[tuple, int] = {}
    errors: dict[str, dict[str, list[str]]] = {}
    for index, signal in enumerate(signals):
        key = _key(signal)
        if key in seen:
            errors[str(index)] = {
                "timestamp": [f"Duplicates item {seen[key]} of this request."]
            }
        seen.setdefault(key, index)
    stored = set(
        Signal.objects.filter(
            pair__in={key[0] for key in seen},
            timestamp__in={key[3] for key in seen},
        )
        .exclude(pk__in=[s.pk for s in signals if s.pk])
        .values_list(*UNIQUE_KEY)
    )
    for key, index in seen.items():
        if key in stored:
            errors.setdefault(str(index), {"timestamp": [DUPLICATE_MESSAGE]})
    return errors


def signals_bulk_create(*, items: Iterable[dict[str, Any]]) -> list[Signal]:
    """Insert validated signal fields all or nothing; BulkError on duplicate keys."""
    return signals_insert(signals=[Signal(**item) for item in items])


def signals_insert(*, signals: Sequence[Signal]) -> list[Signal]:
    """Insert unsaved signals all or nothing; raises BulkError on duplicate keys."""
    signals = [signal_derive(signal) for signal in signals]
    errors = _unstorable(signals) or _duplicates(signals)
    if errors:
        raise BulkError(errors)
    try:
        with transaction.atomic():
            created = signals_store(signals=signals)
            rollup_rows_add(ids=[signal.pk for signal in created])
            signals_record(signals=created, types=[EventType.CREATED] * len(created))
            signals_changed(cells=[cell_of(signal) for signal in created])
    except IntegrityError as error:
        # A concurrent writer took a key between the check and the insert.
        raise BulkError(
            _duplicates(signals) or {"0": {"timestamp": [DUPLICATE_MESSAGE]}}
        ) from error
    return created


def signals_bulk_update(*, changes: Sequence[tuple[int, dict[str, Any]]]) -> int:
    """Apply validated field changes to existing signals, all or nothing."""
    fields = sorted({name for _, data in changes for name in data} | {"updated_at"})
    derived = {"risk_reward", "pips"}
    now = timezone.now()
    with transaction.atomic():
        # Row locks serialise concurrent updates of the same signals: no lost update.
        by_id = {
            signal.pk: signal
            for signal in Signal.objects.select_for_update()
            .filter(pk__in=[pk for pk, _ in changes])
            .order_by("pk")
        }
        signals, was = [], {pk: signal.status for pk, signal in by_id.items()}
        cells = {cell_of(signal) for signal in by_id.values()}  # before the changes
        for pk, data in changes:
            signal = by_id[pk]
            for name, value in data.items():
                setattr(signal, name, value)
            signal.updated_at = now
            signals.append(signal_derive(signal))
        errors = _unstorable(signals)
        if errors:
            raise BulkError(errors)
        if any(name in fields for name in UNIQUE_KEY):
            errors = _duplicates(signals)
            if errors:
                raise BulkError(errors)
        signals_write_fields(signals=signals, fields=sorted(set(fields) | derived))
        signals_record(
            signals=signals, types=[_change_type(was[s.pk], s) for s in signals]
        )
        signals_changed(
            cells=cells | {cell_of(signal) for signal in signals}, ids=list(by_id)
        )
    return len(signals)


def signal_create(*, data: dict[str, Any]) -> Signal:
    """Create one signal; raises BulkError (index 0) when its key exists."""
    return signals_bulk_create(items=[data])[0]


def signal_update(*, signal: Signal, data: dict[str, Any]) -> Signal:
    """Apply validated changes to one signal."""
    signals_bulk_update(changes=[(signal.pk, data)])
    signal.refresh_from_db()
    return signal


def signal_save(*, signal: Signal) -> Signal:
    """Save one signal edited field by field (the admin), deriving computed fields;
    raises BulkError (index 0) when it cannot be stored (the form checks first)."""
    errors = signal_errors(signal_derive(signal))
    if errors:
        raise BulkError({"0": errors})
    with transaction.atomic():
        was = (
            Signal.objects.select_for_update()
            .filter(pk=signal.pk)
            .values_list(*CELL_FIELDS, named=True)
            .first()
            if signal.pk
            else None
        )
        was_status = was.status if was else None
        before = rollup_contributions(ids=[signal.pk] if was_status else [])
        signal.save()
        after = rollup_contributions(ids=[signal.pk])
        rollup_add(rollup_delta(before=before, after=after))
        kind = EventType.CREATED
        if was_status is not None:
            kind = _change_type(was_status, signal)
        signals_record(signals=[signal], types=[kind])
        cells = [cell_of(signal)] + ([cell_of(was)] if was else [])
        signals_changed(cells=cells, ids=[signal.pk])
    return signal


def signals_delete(*, queryset: Any) -> int:
    """Delete signals and invalidate cached answers: the signals', and those of
    apps that keep answers about them (signals_deleting)."""
    with transaction.atomic():
        rows = list(queryset.values_list("pk", *CELL_FIELDS))
        ids = [pk for pk, *_ in rows]
        signals_deleting.send(sender=Signal, ids=ids)
        rollup_rows_add(ids=ids, sign="-")
        deleted, _ = Signal.objects.filter(pk__in=ids).delete()
        signals_changed(cells=[Cell(*cell) for _, *cell in rows], ids=ids)
    return deleted


@dataclass(frozen=True)
class Resolution:
    """How one signal ended, as outcome resolution computed it."""

    signal_id: int
    status: str
    outcome: str
    exit_price: Decimal
    pips: Decimal
    mae_pips: Decimal
    mfe_pips: Decimal
    closed_at: datetime


# What outcome resolution decides; the admin shows them together.
OUTCOME_FIELDS = (
    "status",
    "outcome",
    "exit_price",
    "pips",
    "mae_pips",
    "mfe_pips",
    "closed_at",
)
RESOLVE_FIELDS = (*OUTCOME_FIELDS, "updated_at")


def signals_write_fields(
    *, signals: Sequence[Signal], fields: Sequence[str], only_active: bool = False
) -> int:
    """Write the given fields of many signals (_write_fields); returns how many."""
    with transaction.atomic():  # the rollup's change commits with the rows
        written = _write_fields(signals=signals, fields=fields, only_active=only_active)
    return len(written)


def _write_fields(
    *, signals: Sequence[Signal], fields: Sequence[str], only_active: bool = False
) -> list[int]:
    """Write the given fields of many signals, a batch a statement
    (storage.writes.fields_write), keeping the rollup; with `only_active`, rows no
    longer active are left as they are. Returns the ids of the rows written."""
    size = fields_batch_size(fields)
    written: list[int] = []
    delta: dict = {}
    for start in range(0, len(signals), size):
        batch = signals[start : start + size]
        with transaction.atomic():
            locked = list(_lock([signal.pk for signal in batch]))
            # What the rows held, read under their locks: the rollup's old share.
            before = rollup_contributions(ids=locked, only_active=only_active)
            done = fields_write(signals=batch, fields=fields, only_active=only_active)
            after = rollup_contributions(ids=done)
            rollup_merge(delta, rollup_delta(before=before, after=after))
            written.extend(done)
    rollup_add(delta)  # once, its groups in order: see signals.rollup
    return written


def _lock(ids: Sequence[int]) -> dict[int, Cell]:
    """Lock the signals among `ids` in id order, as every bulk write of signals
    locks them: two writers on the same rows queue up instead of deadlocking.
    Returns each locked row's cell as it is before the write."""
    rows = (
        Signal.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", *CELL_FIELDS)
    )
    return {pk: Cell(*cell) for pk, *cell in rows}


def _storable(resolution: Resolution) -> bool:
    for name in ("pips", "mae_pips", "mfe_pips"):
        if not decimal_fits(Signal._meta.get_field(name), getattr(resolution, name)):
            logger.warning(
                "signal %s left active: its %s does not fit the column",
                resolution.signal_id,
                name,
            )
            return False
    return True


def signals_resolve(*, resolutions: Sequence[Resolution]) -> int:
    """Record outcomes of signals that are still active; returns how many. A
    resolution whose pips would not fit their columns is logged and left out."""
    resolutions = sorted(
        (item for item in resolutions if _storable(item)),
        key=lambda item: item.signal_id,
    )
    now, stored, delta, cells = timezone.now(), [], {}, set()
    with transaction.atomic():
        for start in range(0, len(resolutions), DOCUMENT_BATCH):
            batch = resolutions[start : start + DOCUMENT_BATCH]
            ids = [item.signal_id for item in batch]
            locked = _lock(ids)  # the rollup's old share is read under the locks
            before = rollup_contributions(ids=ids, only_active=True)
            written = outcomes_write(
                ids=ids,
                columns={
                    name: [getattr(item, name) for item in batch]
                    for name in OUTCOME_FIELDS
                },
                updated_at=now,
            )
            after = rollup_contributions(ids=[row["id"] for row in written])
            rollup_merge(delta, rollup_delta(before=before, after=after))
            stored.extend(written)
            for row in written:  # where each row was, and is now
                cells.add(locked[row["id"]])
                cells.add(Cell(*(row[name] for name in CELL_FIELDS)))
        rollup_add(delta)  # once, its groups in order: see signals.rollup
        stored.sort(key=lambda row: row["id"])
        events_record(
            events=[(EventType.RESOLVED, form) for form in detail_forms_of_rows(stored)]
        )
        signals_changed(cells=cells, ids=[row["id"] for row in stored])
    return len(stored)


def signals_rollup_rebuild() -> int:
    """Recount the stats rollup from every signal, for rows written around the
    services (raw SQL loads); returns the rollup's row count."""
    with transaction.atomic():
        # Any stats answer may change: unfiltered, and of every cell counted
        # before or after (a stale row may name a pair without signals).
        fields = ("pair", "status", "outcome", "timeframe")  # no strategy column
        counted = SignalRollup.objects.order_by().distinct().values_list(*fields)
        cells = {Cell(p, s, o or None, tf, None) for p, s, o, tf in counted}
        rows = rollup_rebuild()
        stored = Signal.objects.order_by().distinct().values_list(*CELL_FIELDS)
        cells.update(Cell(*cell) for cell in stored)
        signals_changed(cells=cells)
    return rows
