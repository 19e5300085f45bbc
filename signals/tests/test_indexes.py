import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection

from signals.indexes import indexes_missing
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("create_indexes", *args, stdout=out)
    return out.getvalue()


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, "signals_signal"))


def drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")


def test_create_indexes_reports_nothing_to_do_when_all_exist():
    assert "All" in run() and not indexes_missing()


def test_create_indexes_rebuilds_a_dropped_index_and_is_idempotent():
    drop("idx_pair_status_timestamp")
    assert "idx_pair_status_timestamp" not in index_names()
    assert "missing: signals_signal.idx_pair_status_timestamp" in run("--dry-run")
    assert "idx_pair_status_timestamp" not in index_names()
    output = run()
    assert "built signals_signal.idx_pair_status_timestamp" in output
    assert "idx_pair_status_timestamp" in index_names()
    assert "All" in run()


@pytest.mark.postgresql
def test_create_indexes_replaces_an_invalid_leftover_on_postgresql():
    drop("idx_status_confidence")
    SignalFactory.create_batch(2)
    # A concurrent build that fails (here: duplicates under UNIQUE) leaves an invalid
    # index behind under the declared name.
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY idx_status_confidence "
            "ON signals_signal (status)"
        )
    assert "idx_status_confidence" in index_names()
    assert [d.index.name for d in indexes_missing()] == ["idx_status_confidence"]
    run()
    assert not indexes_missing()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('idx_status_confidence'::regclass)")
        assert "confidence DESC" in cursor.fetchone()[0]
