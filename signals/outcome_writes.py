"""The outcome columns of many signals written from arrays, without model instances.

Outcome backfill resolves up to hundreds of thousands of signals a run; building a
model instance per row to write it, letting the driver adapt each value, and reading
the rows back for the events cost more than the resolution itself (BENCHMARKS.md).
Here each column travels as one value: on PostgreSQL an array literal built with
plain string joins and expanded by `unnest`, on SQLite a VALUES list; the statement
returns the rows as stored. Callers own the transaction and the events.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, connections

from core.batch_sql import bulk_batch_size

from .models import Signal
from .representations import DETAIL_FIELDS, detail_rows_converted

PG_BATCH = 10000


def outcomes_write(
    *, ids: Sequence[int], columns: dict[str, Sequence[Any]], updated_at: datetime
) -> list[dict[str, Any]]:
    """Set the given columns (field name: values aligned with `ids`) and updated_at
    on the signals among `ids` that are still active; returns their DETAIL_FIELDS
    values as stored (no model instance), in no particular order.

    The caller holds the rows' locks (taken in id order, as every bulk write of
    signals takes them, so concurrent writers queue instead of deadlocking); rows
    someone closed before that are left alone: the status is checked again.
    """
    fields = [Signal._meta.get_field(name) for name in columns]
    postgres = connection.vendor == "postgresql"
    size = PG_BATCH if postgres else bulk_batch_size(len(fields) + 2)
    stored: list[dict[str, Any]] = []
    for start in range(0, len(ids), size):
        end = start + size
        batch = [values[start:end] for values in columns.values()]
        source, params = (_unnest if postgres else _values)(
            ids[start:end], fields, batch
        )
        stored.extend(_update(source, params, fields, updated_at))
    return stored


def _update(
    source: str, params: list[Any], fields: Sequence[Any], updated_at: datetime
) -> list[dict[str, Any]]:
    """UPDATE … FROM the batch `v`, returning the rows' detail values."""
    table = connection.ops.quote_name(Signal._meta.db_table)
    stamp = Signal._meta.get_field("updated_at")
    assignments = ", ".join(
        [f"{f.column} = v.{f.column}" for f in fields] + [f"{stamp.column} = %s"]
    )
    names = ", ".join(["id", *(f.column for f in fields)])
    returned = ", ".join(
        f"{table}.{Signal._meta.get_field(name).column}" for name in DETAIL_FIELDS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v({names}) AS ({source}) "
            f"UPDATE {table} SET {assignments} FROM v "
            f"WHERE {table}.id = v.id AND {table}.status = 'active' "
            f"RETURNING {returned}",
            [*params, stamp.get_db_prep_save(updated_at, connection)],
        )
        rows = cursor.fetchall()
    return detail_rows_converted(rows, connections[connection.alias])


def _unnest(
    ids: Sequence[int], fields: Sequence[Any], columns: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    arrays = ", ".join(
        ["%s::bigint[]", *(f"%s::{f.db_type(connection)}[]" for f in fields)]
    )
    return f"SELECT * FROM unnest({arrays})", [
        _pg_array(ids),
        *(_pg_array(column) for column in columns),
    ]


def _pg_array(values: Sequence[Any]) -> str:
    """An array literal of ids, decimals, datetimes or choice values: none of
    them holds a character the literal would need to escape, and NULL is None."""
    return (
        "{"
        + ",".join(
            "NULL"
            if value is None
            else value.isoformat()
            if isinstance(value, datetime)
            else str(value)
            for value in values
        )
        + "}"
    )


def _values(
    ids: Sequence[int], fields: Sequence[Any], columns: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    prepared = [
        [field.get_db_prep_save(value, connection) for value in column]
        for field, column in zip(fields, columns, strict=True)
    ]
    rows = list(zip(ids, *prepared, strict=True))
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    return f"VALUES {', '.join([row] * len(rows))}", [
        value for values in rows for value in values
    ]
