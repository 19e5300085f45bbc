"""The insert of new signals: one JSON document a batch on PostgreSQL.

bulk_create binds every value of every row, and psycopg adapts each `indicators`
dict as its own jsonb parameter (a json.dumps and an escape of its quotes each);
for 10,000 signals that cost more than the database's own work. Here the rows
travel as one JSON text that PostgreSQL expands (`jsonb_array_elements`), as the
event log's batches do (events.services). SQLite keeps bulk_create.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.db import connection
from django.utils import timezone

from core.batch_sql import bulk_batch_size

from .models import Signal

# Rows a statement; the document of 10,000 signals is a few megabytes.
PG_BATCH = 10000


def signals_store(*, signals: Sequence[Signal]) -> list[Signal]:
    """INSERT derived, checked signals in their order, giving each its id, in the
    caller's transaction; an IntegrityError (a key taken meanwhile) propagates."""
    if connection.vendor != "postgresql":
        size = bulk_batch_size(len(Signal._meta.concrete_fields))
        return Signal.objects.bulk_create(signals, batch_size=size)
    now = timezone.now()
    fields = [f for f in Signal._meta.concrete_fields if not f.primary_key]
    stamps = [f for f in fields if _stamp(f)]  # created_at, updated_at
    fields = [f for f in fields if not _stamp(f)]
    for signal in signals:  # what bulk_create's pre_save gives them
        for field in stamps:
            setattr(signal, field.attname, now)
    sql = _insert_sql(fields, stamps)
    with connection.cursor() as cursor:
        for start in range(0, len(signals), PG_BATCH):
            batch = signals[start : start + PG_BATCH]
            cursor.execute(sql, [now] * len(stamps) + [_document(batch, fields)])
            for signal, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                signal.pk = pk
                signal._state.adding = False
                signal._state.db = connection.alias
    return list(signals)


def _stamp(field: Any) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _insert_sql(fields: list[Any], stamps: list[Any]) -> str:
    """Each element of the document is one row, its values in `fields` order:
    text as JSON strings, cast to the column's type; the jsonb column as it is.
    Values reach the columns as a bound parameter would (assignment casts).
    Ids come from the sequence in the order of the elements (ORDER BY n), and
    RETURNING gives them back in that order, as bulk_create relies on too. The
    `stamps` columns take one parameter each: the batch's time."""
    values = []
    for index, field in enumerate(fields):
        kind = field.get_internal_type()
        if kind == "JSONField":  # JSON null is SQL NULL, as bulk_create binds None
            values.append(f"NULLIF(e->{index}, 'null'::jsonb)")
        elif kind in ("CharField", "TextField"):  # no cast: too long stays an error
            values.append(f"e->>{index}")
        else:  # the type without its modifiers: the column rounds, as on a bind
            base = field.db_type(connection).partition("(")[0]
            values.append(f"(e->>{index})::{base}")
    table = connection.ops.quote_name(Signal._meta.db_table)
    values += ["%s"] * len(stamps)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields + stamps)
    return (
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(values)} "
        "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(e, n) "
        "ORDER BY n RETURNING id"
    )


def _document(signals: Sequence[Signal], fields: list[Any]) -> str:
    """The rows as one JSON array of arrays. Decimals and datetimes as text (the
    casts read them back exactly); `indicators` as JSON, encoded as the column's
    own encoder (json.dumps) would encode it."""
    values = attrgetter(*(f.attname for f in fields))
    return json.dumps([values(signal) for signal in signals], default=_text)


def _text(value: Any) -> str:
    """What json.dumps cannot write itself: a Decimal or a datetime, as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
