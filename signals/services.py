"""Writes to signals: the API, admin, commands and generation all go through here."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .caching import signals_cache_bump
from .models import Signal
from .pricing import pip_size, pips, risk_reward

# PostgreSQL takes at most 65,535 bind parameters a statement; stay well under it.
MAX_BIND_PARAMS = 60000
UNIQUE_KEY = ("pair", "timeframe", "strategy", "timestamp")
DUPLICATE_MESSAGE = "A signal for this pair, timeframe, strategy and timestamp exists."


class BulkError(Exception):
    """Some items of an all-or-nothing write are invalid; nothing was written."""

    def __init__(self, errors: dict[str, dict[str, list[str]]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _batch_size(field_count: int) -> int:
    return max(1, MAX_BIND_PARAMS // field_count)


def signal_derive(signal: Signal) -> Signal:
    """Fill the server-computed fields (risk_reward, pips) from the others."""
    signal.risk_reward = risk_reward(
        signal.entry_price, signal.stop_loss, signal.take_profit
    )
    if signal.exit_price is not None:
        pip = pip_size(signal.pair, settings.PIP_SIZES)
        signal.pips = pips(signal.direction, signal.entry_price, signal.exit_price, pip)
    return signal


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
    errors = _duplicates(signals)
    if errors:
        raise BulkError(errors)
    try:
        with transaction.atomic():
            created = Signal.objects.bulk_create(
                signals, batch_size=_batch_size(len(Signal._meta.concrete_fields))
            )
            transaction.on_commit(signals_cache_bump)
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
        by_id = Signal.objects.select_for_update().in_bulk([pk for pk, _ in changes])
        signals = []
        for pk, data in changes:
            signal = by_id[pk]
            for name, value in data.items():
                setattr(signal, name, value)
            signal.updated_at = now
            signals.append(signal_derive(signal))
        if any(name in fields for name in UNIQUE_KEY):
            errors = _duplicates(signals)
            if errors:
                raise BulkError(errors)
        update_fields = sorted(set(fields) | derived)
        Signal.objects.bulk_update(
            signals, update_fields, batch_size=_batch_size(2 * len(update_fields) + 2)
        )
        transaction.on_commit(signals_cache_bump)
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
    """Save one signal edited field by field (the admin), deriving computed fields."""
    with transaction.atomic():
        signal_derive(signal).save()
        transaction.on_commit(signals_cache_bump)
    return signal


def signals_delete(*, queryset: Any) -> int:
    """Delete signals and invalidate cached answers."""
    with transaction.atomic():
        deleted, _ = queryset.delete()
        transaction.on_commit(signals_cache_bump)
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


RESOLVE_COLUMNS = (
    ("status", None),
    ("outcome", None),
    ("exit_price", "numeric"),
    ("pips", "numeric"),
    ("mae_pips", "numeric"),
    ("mfe_pips", "numeric"),
    ("closed_at", "timestamptz"),
)


def signals_resolve(*, resolutions: Sequence[Resolution]) -> int:
    """Write outcomes with one UPDATE … FROM (VALUES …) a batch, only on active rows.

    Measured faster than bulk_update's CASE expressions (see BENCHMARKS.md); the
    `status = 'active'` guard means a signal closed meanwhile by someone else keeps
    their change.
    """
    postgres = connection.vendor == "postgresql"
    ops = connection.ops
    per_row = len(RESOLVE_COLUMNS) + 1
    updated = 0
    now = ops.adapt_datetimefield_value(timezone.now())
    table = Signal._meta.db_table
    for start in range(0, len(resolutions), _batch_size(per_row)):
        batch = resolutions[start : start + _batch_size(per_row)]
        params: list[Any] = []
        for item in batch:
            params += [
                item.signal_id,
                item.status,
                item.outcome,
                str(item.exit_price),
                str(item.pips),
                str(item.mae_pips),
                str(item.mfe_pips),
                ops.adapt_datetimefield_value(item.closed_at),
            ]
        row = "(" + ", ".join(["%s"] * per_row) + ")"
        values = ", ".join([row] * len(batch))
        assignments = ", ".join(
            f"{name} = CAST(v.{name} AS {kind})"
            if postgres and kind
            else f"{name} = v.{name}"
            for name, kind in RESOLVE_COLUMNS
        )
        names = ", ".join(["id", *(name for name, _ in RESOLVE_COLUMNS)])
        id_cast = "CAST(v.id AS bigint)" if postgres else "v.id"
        sql = (
            f"WITH v({names}) AS (VALUES {values}) "
            f"UPDATE {table} SET {assignments}, updated_at = %s FROM v "
            f"WHERE {table}.id = {id_cast} AND {table}.status = 'active' "
            f"RETURNING {table}.id"  # rowcount is not reported for WITH on SQLite
        )
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [*params, now])
                updated += len(cursor.fetchall())
            transaction.on_commit(signals_cache_bump)
    return updated
