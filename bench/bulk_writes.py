"""Insert and update paths for signals on PostgreSQL, measured side by side.

    DATABASE_URL=postgres://… python bench/bulk_writes.py [N]

Inserts N signals with Django's bulk_create, with the app's insert (one JSON
document a batch, signals.storage.writes) and with COPY (ids taken from the sequence
first, so the caller still gets them in input order), then updates them
with bulk_update (CASE expressions) and with one UPDATE … FROM (VALUES …) a
batch. Each figure is the median of 5 runs; the table is printed as markdown.
"""

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphaforge.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.batch_sql import bulk_batch_size  # noqa: E402
from signals.models import Signal  # noqa: E402
from signals.services import (  # noqa: E402
    RESOLVE_FIELDS,
    Resolution,
    signal_derive,
    signals_resolve,
    signals_rollup_rebuild,
)
from signals.storage.writes import signals_store  # noqa: E402

RUNS = 5


def make(n: int, run: int) -> list[Signal]:
    start = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=run * 1000)
    return [
        signal_derive(
            Signal(
                pair=f"P{i % 30:02d}/USD",
                timeframe="1h",
                direction="buy",
                entry_price=Decimal("1.10000"),
                stop_loss=Decimal("1.09500"),
                take_profit=Decimal("1.11000"),
                confidence=Decimal("60.5"),
                timestamp=start + timedelta(minutes=i),
                strategy="bench",
                indicators={"rsi_14": 55.1},
                created_at=timezone.now(),
                updated_at=timezone.now(),
            )
        )
        for i in range(n)
    ]


def insert_bulk_create(signals: list[Signal]) -> list[int]:
    with transaction.atomic():
        size = bulk_batch_size(len(Signal._meta.concrete_fields))
        return [s.pk for s in Signal.objects.bulk_create(signals, batch_size=size)]


def insert_json_document(signals: list[Signal]) -> list[int]:
    with transaction.atomic():
        return [s.pk for s in signals_store(signals=signals)]


def insert_copy(signals: list[Signal]) -> list[int]:
    fields = [f for f in Signal._meta.concrete_fields if f.attname != "id"]
    columns = ", ".join(["id", *(f.column for f in fields)])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('signals_signal', 'id')) "
            "FROM generate_series(1, %s)",
            [len(signals)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY signals_signal ({columns}) FROM STDIN") as copy:
            for pk, signal in zip(ids, signals, strict=True):
                copy.write_row(
                    [
                        pk,
                        *(
                            f.get_db_prep_save(getattr(signal, f.attname), connection)
                            for f in fields
                        ),
                    ]
                )
    return ids


def update_bulk_update(ids: list[int]) -> None:
    signals = list(Signal.objects.filter(pk__in=ids).only("id"))
    for s in signals:
        s.status, s.outcome, s.exit_price = "closed", "win", Decimal("1.11")
        s.pips, s.mae_pips, s.mfe_pips = Decimal(100), Decimal(5), Decimal(100)
        s.closed_at = s.updated_at = timezone.now()
    with transaction.atomic():
        Signal.objects.bulk_update(
            signals,
            RESOLVE_FIELDS,
            batch_size=bulk_batch_size(2 * len(RESOLVE_FIELDS) + 2),
        )


def update_values(ids: list[int]) -> None:
    now = timezone.now()
    signals_resolve(
        resolutions=[
            Resolution(
                pk,
                "closed",
                "win",
                Decimal("1.11"),
                Decimal(100),
                Decimal(5),
                Decimal(100),
                now,
            )
            for pk in ids
        ]
    )


def timed(fn, *args) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (migrated).")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    figures: dict[str, list[float]] = {
        k: [] for k in ("bulk_create", "json_document", "copy", "bulk_update", "values")
    }
    for run in range(RUNS):
        Signal.objects.filter(strategy="bench").delete()
        seconds, ids_a = timed(insert_bulk_create, make(n, 3 * run))
        figures["bulk_create"].append(seconds)
        seconds, _ = timed(insert_json_document, make(n, 3 * run + 2))
        figures["json_document"].append(seconds)
        seconds, ids_b = timed(insert_copy, make(n, 3 * run + 1))
        figures["copy"].append(seconds)
        figures["bulk_update"].append(timed(update_bulk_update, ids_a)[0])
        # UPDATE … FROM VALUES only touches active rows: use the fresh COPY batch.
        figures["values"].append(timed(update_values, ids_b)[0])
    Signal.objects.filter(strategy="bench").delete()
    signals_rollup_rebuild()  # the writes above went around the services
    print(f"| operation ({n} signals, median of {RUNS}) | seconds | rows/s |")
    print("|---|---|---|")
    for name, values in figures.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.3f} | {n / median:,.0f} |")


if __name__ == "__main__":
    main()
