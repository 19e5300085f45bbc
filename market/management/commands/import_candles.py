import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    DjangoHelpFormatter,
)

from core.vocabulary import Timeframe
from market.layouts import CandleImportError
from market.parsers import BadRow, utc_offset_format, utc_offset_parse
from market.services import (
    LISTED_BAD_ROWS,
    PROGRESS_EVERY,
    BadRowsError,
    candles_import,
)


class HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's option order, with the description's paragraphs kept as written."""


def lines_listed(bad_rows: list[BadRow], bad_count: int) -> str:
    listed = ", ".join(str(row.line) for row in bad_rows)
    more = bad_count - len(bad_rows)
    return f"{listed} and {more} more" if more else listed


def reasons_listed(bad_rows: list[BadRow], bad_count: int) -> list[str]:
    lines = [f"  line {row.line}: {row.reason}" for row in bad_rows]
    if bad_count > len(bad_rows):
        lines.append(f"  … and {bad_count - len(bad_rows)} more")
    return lines


class Command(BaseCommand):
    help = f"""Load OHLCV candles of one pair and timeframe from a CSV file.

The layout is detected from the first line:
  - a header naming timestamp,open,high,low,close,volume columns, in any order and
    any case; the timestamp column may also be called time, date or datetime, or
    be the first column with no name (separate date and time columns are joined).
    Timestamps are ISO 8601 (with or without an offset, a space or T between date
    and time), YYYY.MM.DD dates, or epoch seconds or milliseconds (numbers of
    1e11 and more are milliseconds). Without a volume column volume is 0;
  - MetaTrader 4: YYYY.MM.DD,HH:MM,O,H,L,C,V without a header;
  - MetaTrader 5: a tab-separated <DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE>
    <TICKVOL> <VOL> <SPREAD> header. Volume is <VOL>, the exchange volume, and
    <TICKVOL> where <VOL> is 0 (forex brokers report no real volume);
  - HistData ASCII: YYYYMMDD HHMMSS;O;H;L;C;V without a header.

Times without an offset are UTC, or at --utc-offset when given. HistData files are
at UTC-05:00 unless --utc-offset says otherwise. Times with an offset, and epoch
numbers, are absolute and --utc-offset does not apply to them.

A bad row (unparsable, wrong number of fields, high below low, open or close
outside low-high, a price not above 0) is reported with its line number, the
first line of the file being 1. So is a row repeating the timestamp of an earlier
row: the first one is kept. By default a bad row means nothing is imported;
--skip-bad-rows imports the other rows and lists the skipped lines. Prices are
stored to 8 decimal places.

Candles already stored for the pair and timeframe are left as they are, so
importing the same file again adds nothing. The import is a single transaction:
interrupting it (Ctrl-C) writes nothing, and running it again is safe.
Progress is reported every {PROGRESS_EVERY:,} rows; at most {LISTED_BAD_ROWS} bad rows
are listed."""

    def create_parser(
        self, prog_name: str, subcommand: str, **kwargs: Any
    ) -> CommandParser:
        kwargs.setdefault("formatter_class", HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the CSV file")
        parser.add_argument(
            "--pair", required=True, help="instrument, e.g. EUR/USD (upper case)"
        )
        parser.add_argument(
            "--timeframe", required=True, choices=Timeframe.values, help="bar size"
        )
        parser.add_argument(
            "--utc-offset",
            help="offset of the file's naive times, e.g. +02:00; write a negative one "
            "as --utc-offset=-05:00 or -0500 (default: UTC, HistData -05:00)",
        )
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="import the good rows and list the bad ones, instead of importing "
            "nothing",
        )

    def progress(self, rows: int, read_all: bool) -> None:
        if read_all:
            self.stdout.write(f"… all {rows:,} rows read; finishing the write")
        else:
            self.stdout.write(f"… {rows:,} rows read")

    def handle(
        self,
        *args: Any,
        path: Path,
        pair: str,
        timeframe: str,
        utc_offset: str | None = None,
        skip_bad_rows: bool = False,
        **options: Any,
    ) -> None:
        offset = None
        if utc_offset is not None:
            try:
                offset = utc_offset_parse(utc_offset)
            except ValueError as error:
                raise CommandError(f"--utc-offset: {error}") from None
        try:
            result = candles_import(
                path=Path(path),
                pair=pair,
                timeframe=timeframe,
                utc_offset=offset,
                skip_bad_rows=skip_bad_rows,
                progress=self.progress,
            )
        except BadRowsError as error:
            raise CommandError(
                "\n".join(
                    [
                        f"{error.bad_count} bad rows in {path} ({error.rows} rows); "
                        "nothing was imported (--skip-bad-rows imports the rest):",
                        *reasons_listed(error.bad_rows, error.bad_count),
                    ]
                )
            ) from None
        except CandleImportError as error:
            raise CommandError(str(error)) from None

        self.stdout.write(
            f"Read {path} as {result.layout}, naive times at "
            f"UTC{utc_offset_format(result.utc_offset)}."
        )
        if result.bad_count:
            self.stdout.write(self.style.WARNING("Skipped bad rows:"))
            for line in reasons_listed(result.bad_rows, result.bad_count):
                self.stdout.write(self.style.WARNING(line))
        skipped = (
            lines_listed(result.bad_rows, result.bad_count)
            if result.bad_count
            else "none"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.new} new candles ({result.present} already present) "
                f"from {result.rows} rows; skipped lines: {skipped}"
            )
        )
