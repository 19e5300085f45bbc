"""The candle import service: a parsed file's rows written all or nothing.

Candles feed no cached API answer (the cache holds signals and journal answers, and a
generated signal bumps it when written), so importing candles does not bump the cache.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from django.db import connection, transaction

from core.vocabulary import PAIR_PATTERN, Timeframe

from .layouts import CandleFileError, CandleImportError
from .models import Candle
from .parsers import BadRow, CandleFile, CandleRow

PROGRESS_EVERY = 100_000  # rows between progress reports
WRITE_BATCH = 5_000  # rows per COPY write or bulk_create call
LISTED_BAD_ROWS = 20  # bad rows kept with their reason; the rest are only counted


@dataclass(frozen=True)
class CandleImportResult:
    layout: str
    utc_offset: timedelta
    rows: int  # data rows read: new + present + bad
    new: int
    present: int
    bad_rows: list[BadRow]  # the first LISTED_BAD_ROWS of them
    bad_count: int


class BadRowsError(CandleImportError):
    """The file has bad rows and they were not to be skipped: nothing was written."""

    def __init__(self, *, rows: int, bad_rows: list[BadRow], bad_count: int) -> None:
        super().__init__(f"{bad_count} bad rows of {rows}")
        self.rows = rows
        self.bad_rows = bad_rows
        self.bad_count = bad_count


def candles_import(
    *,
    path: Path,
    pair: str,
    timeframe: str,
    utc_offset: timedelta | None = None,
    skip_bad_rows: bool = False,
    progress: Callable[[int, bool], None] | None = None,
) -> CandleImportResult:
    """Store a file's candles in one transaction; stored ones stay, bad rows abort.

    With `skip_bad_rows` bad rows are left out instead of aborting. Rows already stored
    for the pair and timeframe are not changed, so importing a file twice adds nothing.
    `progress` is called with the rows read every PROGRESS_EVERY rows, and on a file
    that long once more with True when reading is done and only the write is left.
    """
    if not PAIR_PATTERN.fullmatch(pair):
        raise CandleImportError(
            f"invalid pair {pair!r}: expected upper-case BASE/QUOTE such as EUR/USD"
        )
    if timeframe not in Timeframe.values:
        raise CandleImportError(
            f"invalid timeframe {timeframe!r}: expected one of "
            f"{', '.join(Timeframe.values)}"
        )
    try:
        with _candle_file_open(path) as stream:
            candles = CandleFile(stream, utc_offset=utc_offset)
            bad_rows: list[BadRow] = []
            bad_count = 0

            def good_rows() -> Iterator[CandleRow]:
                """The rows to write; ends with BadRowsError when bad rows abort."""
                nonlocal bad_count
                for item in candles:
                    if progress and candles.rows % PROGRESS_EVERY == 0:
                        progress(candles.rows, False)
                    if isinstance(item, BadRow):
                        bad_count += 1
                        if len(bad_rows) < LISTED_BAD_ROWS:
                            bad_rows.append(item)
                    elif skip_bad_rows or not bad_count:
                        yield item
                if bad_count and not skip_bad_rows:
                    raise BadRowsError(
                        rows=candles.rows, bad_rows=bad_rows, bad_count=bad_count
                    )
                if progress and candles.rows >= PROGRESS_EVERY:
                    progress(candles.rows, True)

            write = (
                _candles_copy
                if connection.vendor == "postgresql"
                else _candles_bulk_create
            )
            with transaction.atomic():
                new = write(good_rows(), pair=pair, timeframe=timeframe)
    except OSError as error:
        reason = error.strerror or error
        raise CandleFileError(f"cannot read {path}: {reason}") from None
    return CandleImportResult(
        layout=candles.layout.name,
        utc_offset=candles.utc_offset,
        rows=candles.rows,
        new=new,
        present=candles.rows - bad_count - new,
        bad_rows=bad_rows,
        bad_count=bad_count,
    )


def _candle_file_open(path: Path) -> TextIO:
    """A text stream of the file: UTF-16 when it starts with its byte order mark."""
    with path.open("rb") as raw:
        start = raw.read(2)
    encoding = "utf-16" if start in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    return path.open(encoding=encoding, errors="replace", newline="")


_PRICE_FIELDS = ("open", "high", "low", "close", "volume")
_STAGE = "candle_import_stage"


def _candles_copy(rows: Iterable[CandleRow], *, pair: str, timeframe: str) -> int:
    """PostgreSQL: COPY the rows into a temporary table, then insert the new ones."""
    quote = connection.ops.quote_name
    column = {
        name: quote(Candle._meta.get_field(name).column)
        for name in ("pair", "timeframe", "timestamp", *_PRICE_FIELDS)
    }
    prices = ", ".join(column[name] for name in _PRICE_FIELDS)
    definitions = ", ".join(
        f"{column[name]} {Candle._meta.get_field(name).db_type(connection)} NOT NULL"
        for name in _PRICE_FIELDS
    )
    with connection.cursor() as cursor:
        # Inside an outer transaction ON COMMIT DROP waits for the outer commit, so an
        # earlier import's table can still be there: start from a fresh one.
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} (epoch float8 NOT NULL, {definitions}) "
            "ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY {_STAGE} FROM STDIN") as copy:
            # COPY's text format. Every value is a checked number, so none holds a
            # tab, newline or backslash to escape; an epoch float is several times
            # cheaper to write than an ISO 8601 text and exact to the microsecond.
            buffer: list[str] = []
            for _, timestamp, open_, high, low, close, volume in rows:
                buffer.append(
                    f"{timestamp.timestamp()!r}\t{str(open_)}\t{str(high)}"
                    f"\t{str(low)}\t{str(close)}\t{str(volume)}\n"
                )
                if len(buffer) == WRITE_BATCH:
                    copy.write("".join(buffer))
                    buffer.clear()
            if buffer:
                copy.write("".join(buffer))
        cursor.execute(
            f"INSERT INTO {quote(Candle._meta.db_table)} "
            f"({column['pair']}, {column['timeframe']}, {column['timestamp']}, "
            f"{prices}) "
            f"SELECT %s, %s, to_timestamp(epoch), {prices} FROM {_STAGE} "
            f"ON CONFLICT ({column['pair']}, {column['timeframe']}, "
            f"{column['timestamp']}) DO NOTHING",
            [pair, timeframe],
        )
        new = cursor.rowcount
        cursor.execute(f"DROP TABLE {_STAGE}")
    return new


def _candles_bulk_create(
    rows: Iterable[CandleRow], *, pair: str, timeframe: str
) -> int:
    """Other databases: bulk_create in batches, ignoring rows already stored."""
    stored = Candle.objects.series(pair, timeframe)
    before = stored.count()
    batch: list[Candle] = []
    for _, timestamp, open_, high, low, close, volume in rows:
        batch.append(
            Candle(
                pair=pair,
                timeframe=timeframe,
                timestamp=timestamp,
                open=open_,
                high=high,
                low=low,
                close=close,
                volume=volume,
            )
        )
        if len(batch) == WRITE_BATCH:
            Candle.objects.bulk_create(
                batch, ignore_conflicts=True, batch_size=WRITE_BATCH
            )
            batch.clear()
    if batch:
        Candle.objects.bulk_create(batch, ignore_conflicts=True, batch_size=WRITE_BATCH)
    return stored.count() - before
