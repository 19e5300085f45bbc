"""Statements that write many rows at once, and how many rows a statement may carry.

Two statements, for any table (callers name the table, its columns and their SQL
types; nothing here knows an app):

- `document_insert`: INSERT the rows of one JSON document (PostgreSQL). Binding every
  value of every row, as bulk_create does, made the driver adapt (and escape) each
  JSON value on its own, which cost more than the database's work; one JSON text is
  expanded server-side by `jsonb_array_elements`.
- `arrays_update`: UPDATE … FROM a batch of new values, on PostgreSQL one array per
  column expanded by `unnest` (the statement stays small whatever the batch), on
  other databases a VALUES list. Both were measured far faster than bulk_update's
  CASE expressions (BENCHMARKS.md).

Other databases insert with bulk_create: the callers keep that path.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

# PostgreSQL takes at most 65,535 bind parameters a statement; stay well under it.
MAX_BIND_PARAMS = 60000
# Rows of one statement that binds a column as one value (a document, an array):
# 10,000 rows of a wide table are a few megabytes.
DOCUMENT_BATCH = 10000
# The type of a document column that is not cast: text as it is, JSON as it is.
TEXT, JSON = "text", "jsonb"


def bulk_batch_size(field_count: int) -> int:
    """Rows a statement may carry when each binds `field_count` parameters."""
    return max(1, MAX_BIND_PARAMS // field_count)


def update_batch_size(params_per_row: int) -> int:
    """Rows an arrays_update statement may carry: DOCUMENT_BATCH on PostgreSQL
    (a column is one parameter), else as many as the row's parameters allow."""
    if connection.vendor == "postgresql":
        return DOCUMENT_BATCH
    return bulk_batch_size(params_per_row)


def field_types(fields: Iterable[Any]) -> list[tuple[str, str]]:
    """(column, type) of Django model fields for document_insert: TEXT for text
    (no cast: a value too long for its column stays an error), JSON for JSON,
    else the column's type without its modifiers (the column rounds, as on a bind)."""
    types = []
    for field in fields:
        kind = field.get_internal_type()
        if kind == "JSONField":
            types.append((field.column, JSON))
        elif kind in ("CharField", "TextField"):
            types.append((field.column, TEXT))
        else:
            types.append((field.column, field.db_type(connection).partition("(")[0]))
    return types


def array_types(fields: Iterable[Any]) -> list[tuple[str, str]]:
    """(column, type) of Django model fields for arrays_update: the column's type."""
    return [(field.column, field.db_type(connection)) for field in fields]


class _TextEncoder(json.JSONEncoder):
    """Decimals and datetimes as text: the casts read them back exactly."""

    def default(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat()
        return super().default(value)


def document_insert(
    *,
    table: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    constants: Sequence[tuple[str, Any]] = (),
    encoder: type[json.JSONEncoder] = _TextEncoder,
) -> list[int]:
    """INSERT `rows` (values in `columns` order) from one JSON document a batch, on
    PostgreSQL; returns their ids in the rows' order.

    `columns` are (name, type): TEXT and JSON columns take the element as it is (a
    JSON null is SQL NULL, as bulk_create binds None), others cast its text to the
    type. Each of `constants` (name, value) is one parameter for every row. Ids come
    from the sequence in the order of the elements (ORDER BY n) and RETURNING gives
    them back in that order, as bulk_create relies on too. `encoder` writes the
    document: by default Decimals and datetimes as text.
    """
    values = []
    for index, (_, kind) in enumerate(columns):
        if kind == JSON:
            values.append(f"NULLIF(e->{index}, 'null'::jsonb)")
        elif kind == TEXT:
            values.append(f"e->>{index}")
        else:
            values.append(f"(e->>{index})::{kind}")
    values += ["%s"] * len(constants)
    names = [name for name, _ in columns] + [name for name, _ in constants]
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) "
        f"SELECT {', '.join(values)} "
        "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(e, n) "
        "ORDER BY n RETURNING id"
    )
    fixed = [value for _, value in constants]
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), DOCUMENT_BATCH):
            batch = rows[start : start + DOCUMENT_BATCH]
            cursor.execute(sql, [*fixed, json.dumps(batch, cls=encoder)])
            ids.extend(pk for (pk,) in cursor.fetchall())
    return ids


def array_literal(values: Iterable[Any]) -> str:
    """A PostgreSQL array literal of ids, decimals, datetimes or plain words: none
    of them holds a character the literal would need to escape; None is NULL.
    Cheaper than letting the driver adapt a list, for values known to be plain."""
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


def arrays_update(
    *,
    table: str,
    columns: Sequence[tuple[str, str]],
    values: Sequence[Any],
    key: str = "id",
    constants: Sequence[tuple[str, Any]] = (),
    match: Mapping[str, Any] | None = None,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """UPDATE `table` SET each of `columns` from a batch, one statement; returns the
    `returning` columns of the rows written (none asked: an empty list).

    `values` holds the `key` column's values first, then one column of values per
    (name, type) of `columns`, aligned, ready for the database (prepared as a bind
    would be). On PostgreSQL each travels as one array (a list the driver adapts,
    or an array_literal text) cast to its type and expanded by `unnest`; elsewhere
    as a VALUES list of update_batch_size rows at most. Each of `constants`
    (name, value) sets a column of every row to one parameter; `match` (column:
    value) leaves alone the rows that no longer hold those values.
    """
    quote = connection.ops.quote_name
    name = quote(table)
    keyed = [key, *(column for column, _ in columns)]
    if connection.vendor == "postgresql":
        types = ", ".join(["%s::bigint[]", *(f"%s::{kind}[]" for _, kind in columns)])
        source, params = f"SELECT * FROM unnest({types})", list(values)
    else:
        rows = list(zip(*values, strict=True))
        row = "(" + ", ".join(["%s"] * len(keyed)) + ")"
        source = f"VALUES {', '.join([row] * len(rows))}"
        params = [value for row_values in rows for value in row_values]
    assignments = [f"{column} = v.{column}" for column, _ in columns]
    assignments += [f"{column} = %s" for column, _ in constants]
    params += [value for _, value in constants]
    where = f"{name}.{key} = v.{key}"
    for column, value in (match or {}).items():
        where += f" AND {name}.{column} = %s"
        params.append(value)
    sql = (
        f"WITH v({', '.join(keyed)}) AS ({source}) "
        f"UPDATE {name} SET {', '.join(assignments)} FROM v WHERE {where}"
    )
    if returning:
        sql += " RETURNING " + ", ".join(f"{name}.{column}" for column in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []
