"""The batch writes of signals, through core.batch_sql, without a model instance per
row where none is needed. Callers (signals.services) own the transaction, the
locks, the rollup, the events and the cache versions.

- `signals_store`: bulk_create binds every value of every row, and psycopg adapts
  each `indicators` dict as its own jsonb parameter (a json.dumps and an escape of
  its quotes each); for 10,000 signals that cost more than the database's own work.
  On PostgreSQL the rows travel as one JSON document a batch instead, as the event
  log's do. SQLite keeps bulk_create.
- `fields_write`: the given columns of many signals, one UPDATE … FROM a batch.
- `outcomes_write`: outcome backfill resolves up to hundreds of thousands of signals
  a run; building a model instance per row to write it, letting the driver adapt
  each value, and reading the rows back for the events cost more than the
  resolution itself (BENCHMARKS.md). Each column travels as one array literal and
  the statement returns the rows as stored.
"""

from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.db import connection, connections
from django.utils import timezone

from core.batch_sql import (
    array_literal,
    array_types,
    arrays_update,
    bulk_batch_size,
    document_insert,
    field_types,
    update_batch_size,
)

from ..choices import Status
from ..models import Signal
from .columns import (
    DETAIL_FIELDS,
    INSERT_FIELDS,
    INSERT_STAMPS,
    UPDATE_FIELDS,
    UPDATE_STAMP,
)
from .forms import detail_rows_converted

_insert_values = attrgetter(*INSERT_FIELDS)
_ACTIVE = {"status": Status.ACTIVE.value}


def signals_store(*, signals: Sequence[Signal]) -> list[Signal]:
    """INSERT derived, checked signals in their order, giving each its id, in the
    caller's transaction; an IntegrityError (a key taken meanwhile) propagates."""
    if connection.vendor != "postgresql":
        size = bulk_batch_size(len(Signal._meta.concrete_fields))
        return Signal.objects.bulk_create(signals, batch_size=size)
    now = timezone.now()
    for signal in signals:  # what bulk_create's pre_save gives them
        for name in INSERT_STAMPS:
            setattr(signal, name, now)
    # Decimals and datetimes as text, `indicators` as JSON encoded as the column's
    # own encoder (json.dumps) would encode it.
    ids = document_insert(
        table=Signal._meta.db_table,
        columns=field_types(_fields(INSERT_FIELDS)),
        rows=[_insert_values(signal) for signal in signals],
        constants=[(field.column, now) for field in _fields(INSERT_STAMPS)],
    )
    for signal, pk in zip(signals, ids, strict=True):
        signal.pk = pk
        signal._state.adding = False
        signal._state.db = connection.alias
    return list(signals)


def fields_batch_size(fields: Sequence[str]) -> int:
    """Signals one fields_write statement may carry."""
    return update_batch_size(len(fields) + 1)


def fields_write(
    *, signals: Sequence[Signal], fields: Sequence[str], only_active: bool = False
) -> list[int]:
    """Write the given fields (of UPDATE_FIELDS) of at most fields_batch_size
    signals with one UPDATE … FROM the batch, the values prepared as a save would
    prepare them; with `only_active`, rows no longer active are left as they are
    (someone else closed them meanwhile). Returns the ids of the rows written."""
    model_fields = _fields(fields, allowed=UPDATE_FIELDS)
    values = [[signal.pk for signal in signals]] + [
        [f.get_db_prep_save(getattr(s, f.attname), connection) for s in signals]
        for f in model_fields
    ]
    rows = arrays_update(
        table=Signal._meta.db_table,
        columns=array_types(model_fields),
        values=values,
        match=_ACTIVE if only_active else None,
        returning=("id",),  # SQLite reports no rowcount for WITH … UPDATE
    )
    return [pk for (pk,) in rows]


def outcomes_write(
    *, ids: Sequence[int], columns: dict[str, Sequence[Any]], updated_at: datetime
) -> list[dict[str, Any]]:
    """Set the given columns (field name: values aligned with `ids`) and updated_at
    on the signals among `ids` that are still active; returns their DETAIL_FIELDS
    values as stored (no model instance), in no particular order.

    The caller holds the rows' locks (taken in id order, as every bulk write of
    signals takes them, so concurrent writers queue instead of deadlocking); rows
    someone closed before that are left alone: the status is checked again. On
    PostgreSQL each column is one array literal (ids, decimals, datetimes and
    choice values need no escaping), elsewhere a VALUES list.
    """
    fields = _fields(list(columns), allowed=UPDATE_FIELDS)
    stamp = Signal._meta.get_field(UPDATE_STAMP)
    constants = [(stamp.column, stamp.get_db_prep_save(updated_at, connection))]
    returning = [field.column for field in _fields(DETAIL_FIELDS)]
    postgres = connection.vendor == "postgresql"
    size = update_batch_size(len(fields) + 2)
    stored: list[dict[str, Any]] = []
    for start in range(0, len(ids), size):
        end = start + size
        batch = [values[start:end] for values in columns.values()]
        if postgres:
            values = [array_literal(ids[start:end])]
            values += [array_literal(column) for column in batch]
        else:
            values = [ids[start:end]] + [
                [field.get_db_prep_save(value, connection) for value in column]
                for field, column in zip(fields, batch, strict=True)
            ]
        rows = arrays_update(
            table=Signal._meta.db_table,
            columns=array_types(fields),
            values=values,
            constants=constants,
            match=_ACTIVE,
            returning=returning,
        )
        stored.extend(detail_rows_converted(rows, connections[connection.alias]))
    return stored


def _fields(names: Sequence[str], allowed: Sequence[str] | None = None) -> list:
    """The model fields of `names`; ValueError on one a write may not set."""
    if allowed is not None and not set(names) <= set(allowed):
        raise ValueError(f"not writable: {sorted(set(names) - set(allowed))}")
    return [Signal._meta.get_field(name) for name in names]
