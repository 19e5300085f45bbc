"""The minimal and detail forms of a signal, built from column values.

The read paths (list, feed, detail) and the event log's payloads build their JSON
from these instead of DRF serializers: per value DRF runs a field's
`to_representation` and the serializer machinery around it, which made the
uncached list several times slower than the SQL beneath it. The values are the JSON
values SignalListSerializer and SignalSerializer give, which stay the schema's and
the writes' shapes (signals/tests/test_storage_forms.py holds them equal):

- decimals as JSON numbers: the float of the value quantized to the column's
  places, as DRF's DecimalField (COERCE_DECIMAL_TO_STRING off) and encoder make it;
- datetimes in UTC as DRF writes them (ISO 8601, `Z`);
- `indicators` as stored.

The minimal form keeps the datetime object (api.renderers.FastJSONRenderer and DRF's
encoder both write it as DRF does) and floats straight from the Decimal: rows read
from the database hold exactly the column's places, which quantizing would only pad.
"""

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC
from decimal import Context, Decimal
from operator import attrgetter, itemgetter
from typing import Any

from django.db import connections, models, router

from ..models import Signal
from .columns import DETAIL_FIELDS, MINIMAL_FIELDS


def _minimal_builder() -> Callable[[Iterable[Sequence[Any]]], list[dict[str, Any]]]:
    """minimal_forms' body, written out from MINIMAL_FIELDS and compiled once: a
    comprehension that unpacks each row into names and floats the decimals, as
    fast as one written by hand (a loop over the columns per row took half as
    long again), without restating the columns."""
    names = [f"v{index}" for index in range(len(MINIMAL_FIELDS))]
    items = []
    for name, variable in zip(MINIMAL_FIELDS, names, strict=True):
        field, value = Signal._meta.get_field(name), variable
        if isinstance(field, models.DecimalField):
            value = f"float({variable})"
            if field.null:
                value = f"(None if {variable} is None else {value})"
        items.append(f"{name!r}: {value}")
    source = (
        f"def minimal_forms(rows):\n"
        f"    return [{{{', '.join(items)}}} for ({', '.join(names)},) in rows]\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<signals.storage.forms>", "exec"), namespace)  # noqa: S102
    return namespace["minimal_forms"]


_minimal_forms = _minimal_builder()


def minimal_forms(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Minimal forms of rows from `SignalQuerySet.for_list` (stored values only):
    MINIMAL_FIELDS' values, decimals as floats."""
    return _minimal_forms(rows)


def _number(field: models.DecimalField) -> Any:
    """DRF's DecimalField.to_representation, then its encoder's float()."""
    exponent = Decimal(1).scaleb(-field.decimal_places)
    context = Context(prec=field.max_digits)

    def convert(value: Any) -> float | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value).strip())
        return float(value.quantize(exponent, context=context))

    return convert


def _instant(value: Any) -> str | None:
    """DRF's DateTimeField.to_representation in UTC (the project's time zone)."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.utcoffset():
        value = value.astimezone(UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _json(value: Any) -> Any:
    """DRF's DictField gives an object's keys as text."""
    if isinstance(value, dict):
        return {str(key): item for key, item in value.items()}
    return value


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _key(value: Any) -> int | None:
    return None if value is None else int(value)


def _converter(name: str) -> Any:
    field = Signal._meta.get_field(name)
    if isinstance(field, models.DecimalField):
        return _number(field)
    if isinstance(field, models.DateTimeField):
        return _instant
    if isinstance(field, models.JSONField):
        return _json
    if name == "id":
        return int
    if isinstance(field, models.ForeignKey):
        return _key
    return _text


CONVERTERS = [(name, _converter(name)) for name in DETAIL_FIELDS]


def _detail_builder() -> Callable[..., dict[str, Any]]:
    """detail form's body, written out from CONVERTERS and compiled once: one
    function of the DETAIL_FIELDS values in order, each converted inline where it
    can be (a stored Decimal quantized and floated, text kept, ids as ints) and by
    its converter otherwise. The loop over (name, converter) pairs it replaces cost
    a call per value: 28 µs a signal, more than encoding its event."""
    names = [f"v{index}" for index in range(len(CONVERTERS))]
    namespace: dict[str, Any] = {"Decimal": Decimal, "str": str, "int": int}
    items = []
    for index, ((name, convert), variable) in enumerate(
        zip(CONVERTERS, names, strict=True)
    ):
        field = Signal._meta.get_field(name)
        namespace[f"c{index}"] = convert
        value = f"c{index}({variable})"
        if isinstance(field, models.DecimalField):
            exponent = Decimal(1).scaleb(-field.decimal_places)
            namespace[f"e{index}"] = exponent
            namespace[f"x{index}"] = Context(prec=field.max_digits)
            value = (
                f"(float({variable}.quantize(e{index}, context=x{index})) "
                f"if {variable}.__class__ is Decimal else {value})"
            )
        elif convert is _text:
            value = f"({variable} if {variable}.__class__ is str else {value})"
        elif convert is int or convert is _key:
            value = f"({variable} if {variable}.__class__ is int else {value})"
        items.append(f"{name!r}: {value}")
    source = (
        f"def detail_form_of_values({', '.join(names)}):\n"
        f"    return {{{', '.join(items)}}}\n"
    )
    exec(compile(source, "<signals.storage.forms.detail>", "exec"), namespace)  # noqa: S102
    return namespace["detail_form_of_values"]


_detail_form_of_values = _detail_builder()
_detail_values = attrgetter(*DETAIL_FIELDS)
_detail_items = itemgetter(*DETAIL_FIELDS)


def detail_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """The detail form of one signal's column values (a dict keyed by DETAIL_FIELDS:
    a row from `.values(*DETAIL_FIELDS)` or values about to be written)."""
    return _detail_form_of_values(*_detail_items(values))


def detail_forms_of_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Detail forms of column-value dicts (see detail_form); no query."""
    return [_detail_form_of_values(*_detail_items(row)) for row in rows]


def detail_forms(signals: Iterable[Signal]) -> list[dict[str, Any]]:
    """Detail forms of signals in memory; no query."""
    return [_detail_form_of_values(*_detail_values(signal)) for signal in signals]


# Per database connection (each thread has its own): the detail query compiled once,
# with the converters Django applies to its columns. Compiling the ORM query cost
# three times as much CPU as running it.
_detail_statements: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _detail_statement(connection: Any) -> tuple:
    statement = _detail_statements.get(connection)
    if statement is None:
        queryset = Signal.objects.filter(pk=0).order_by().values_list(*DETAIL_FIELDS)
        compiler = queryset.query.get_compiler(connection=connection)
        sql, _ = compiler.as_sql()
        converters = compiler.get_converters([col for col, _, _ in compiler.select])
        statement = _detail_statements[connection] = (sql, compiler, converters)
    return statement


def detail_rows_converted(
    rows: Iterable[Sequence[Any]], connection: Any
) -> list[dict[str, Any]]:
    """DETAIL_FIELDS column values as the database sent them (e.g. by RETURNING),
    converted as Django converts them (detail_row's form); no query."""
    _, compiler, converters = _detail_statement(connection)
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [dict(zip(DETAIL_FIELDS, row, strict=True)) for row in rows]


def detail_row(pk: int) -> dict[str, Any] | None:
    """One signal's DETAIL_FIELDS values, or None: one query, no model instance."""
    if not 0 < pk < 2**63:  # past the id column's range: no such signal
        return None
    connection = connections[router.db_for_read(Signal)]
    sql, compiler, converters = _detail_statement(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        rows = cursor.fetchall()
    if converters:
        rows = list(compiler.apply_converters(rows, converters))
    return dict(zip(DETAIL_FIELDS, rows[0], strict=True)) if rows else None
