"""The batch statements on a table of their own: arrays_update on both databases,
document_insert on PostgreSQL (other databases insert with bulk_create)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from core.batch_sql import (
    JSON,
    TEXT,
    array_literal,
    array_types,
    arrays_update,
    document_insert,
    field_types,
)

pytestmark = pytest.mark.django_db
TABLE = "core_batch_rows"
WHEN = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


@pytest.fixture
def table():
    json_type = "jsonb" if connection.vendor == "postgresql" else "text"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, amount numeric(12, 4),"
            f" label varchar(10), state varchar(10), doc {json_type},"
            " stamp timestamp with time zone)"
        )
        cursor.execute(
            f"INSERT INTO {TABLE} (id, amount, label, state) VALUES"
            " (1, 1, 'a', 'open'), (2, 2, 'b', 'open'), (3, 3, 'c', 'shut')"
        )
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")


def _rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, amount, label, stamp FROM {TABLE} ORDER BY id")
        return [
            (pk, None if a is None else Decimal(str(a)), label, stamp)
            for pk, a, label, stamp in cursor
        ]


def test_arrays_update_sets_the_columns_of_the_matching_rows_and_returns_them(table):
    written = arrays_update(
        table=table,
        columns=[("amount", "numeric(12, 4)"), ("label", "varchar(10)")],
        values=[[3, 1, 2], [Decimal("3.5"), Decimal("1.25"), None], ["z", "x", "y"]],
        match={"state": "open"},
        returning=("id", "label"),
    )
    assert sorted(written) == [(1, "x"), (2, "y")]
    rows = _rows()
    assert [row[:3] for row in rows[:2]] == [(1, Decimal("1.25"), "x"), (2, None, "y")]
    assert rows[2][:3] == (3, Decimal(3), "c")  # no longer open: left alone


def test_arrays_update_sets_constants_and_takes_array_literals_on_postgresql(table):
    values: list = [[1, 2], [Decimal("7.1"), Decimal("8.2")]]
    if connection.vendor == "postgresql":
        values = [array_literal(column) for column in values]
    written = arrays_update(
        table=table,
        columns=[("amount", "numeric(12, 4)")],
        values=values,
        constants=[("stamp", connection.ops.adapt_datetimefield_value(WHEN))],
    )
    assert written == []
    rows = _rows()
    assert [row[1] for row in rows] == [Decimal("7.1"), Decimal("8.2"), Decimal(3)]
    assert [row[3] is not None for row in rows] == [True, True, False]


def test_array_literal_writes_plain_values_and_null():
    literal = array_literal([1, Decimal("2.50"), None, WHEN, "win"])
    assert literal == "{1,2.50,NULL,2026-01-05T14:30:00+00:00,win}"


def test_field_types_cast_all_but_text_and_json():
    user = get_user_model()._meta
    names = ("username", "last_login", "id")
    types = dict(field_types(user.get_field(name) for name in names))
    assert types["username"] == TEXT
    assert types["last_login"] == user.get_field("last_login").db_type(connection)
    assert types["id"] == user.get_field("id").db_type(connection).partition("(")[0]
    assert array_types([user.get_field("username")]) == [
        ("username", user.get_field("username").db_type(connection))
    ]


@pytest.mark.postgresql
def test_document_insert_returns_ids_in_row_order_and_stores_what_it_was_given(
    table,
):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(
            f"CREATE SEQUENCE {TABLE}_seq START 10;"
            f" ALTER TABLE {TABLE} ALTER id SET DEFAULT nextval('{TABLE}_seq')"
        )
    ids = document_insert(
        table=table,
        columns=[("amount", "numeric"), ("label", TEXT), ("doc", JSON)],
        rows=[
            (Decimal("1.0001"), 'a "q"', {"k": [1, None]}),
            (None, "b", None),
            (Decimal("3"), "c", []),
        ],
        constants=[("stamp", WHEN)],
    )
    assert ids == [10, 11, 12]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, amount, label, doc, stamp FROM {TABLE} ORDER BY id")
        stored = cursor.fetchall()
    assert [row[:3] for row in stored] == [
        (10, Decimal("1.0001"), 'a "q"'),
        (11, None, "b"),
        (12, Decimal(3), "c"),
    ]
    assert [row[3] for row in stored] == ['{"k": [1, null]}', None, "[]"]
    assert {row[4] for row in stored} == {WHEN}
