"""Candle file layouts, plain Python: where each known kind of file keeps a row's
values (MetaTrader 4, HistData, a CSV with a header, MetaTrader 5), and the layout
of a file from its first line. `market.parsers` reads the rows with it. The import's
errors live here too: detecting the layout is the first thing that can refuse a file.
"""

import csv
import re
from dataclasses import dataclass
from datetime import timedelta

HISTDATA_OFFSET = timedelta(hours=-5)  # HistData times are EST without daylight saving

TIMESTAMP_NAMES = ("timestamp", "datetime", "date_time", "time_stamp")
PRICE_NAMES = ("open", "high", "low", "close")
VOLUME_NAMES = ("volume", "vol", "real_volume")
TICK_VOLUME_NAMES = ("tickvol", "tick_volume", "tickvolume")
UNNAMED_FIRST_COLUMN = ("", "unnamed: 0")  # pandas writes the index column with no name

_MT4_ROW = re.compile(r"\d{4}\.\d{2}\.\d{2},\d{1,2}:\d{2}(?::\d{2})?,")
_HISTDATA_ROW = re.compile(r"\d{8} \d{6};")


class CandleImportError(Exception):
    """The import cannot go on; nothing was written."""


class CandleFileError(CandleImportError):
    """The file as a whole cannot be read as candles (missing, empty, unknown)."""


@dataclass(frozen=True)
class Layout:
    """Where one file layout keeps each value of a row."""

    name: str
    delimiter: str
    header: bool
    width: int  # fields a row must have
    timestamp: tuple[int, ...]  # columns joined with a space (date and time)
    prices: tuple[int, int, int, int]  # open, high, low, close
    volume: int | None = None
    tick_volume: int | None = None  # the volume where `volume` is absent or 0
    default_offset: timedelta = timedelta(0)


MT4 = Layout(
    name="MetaTrader 4",
    delimiter=",",
    header=False,
    width=7,
    timestamp=(0, 1),
    prices=(2, 3, 4, 5),
    volume=6,
)
HISTDATA = Layout(
    name="HistData ASCII",
    delimiter=";",
    header=False,
    width=6,
    timestamp=(0,),
    prices=(1, 2, 3, 4),
    volume=5,
    default_offset=HISTDATA_OFFSET,
)


def layout_detect(first_line: str) -> Layout:
    """The layout of a file from its first non-blank line (a header or a data row)."""
    line = first_line.lstrip("\ufeff").strip()
    if _MT4_ROW.match(line):
        return MT4
    if _HISTDATA_ROW.match(line):
        return HISTDATA
    if "\t" in line:
        delimiter = "\t"
    elif ";" in line and "," not in line:
        delimiter = ";"
    else:
        delimiter = ","
    names = next(csv.reader([line], delimiter=delimiter))
    return _header_layout(names, delimiter)


def _header_layout(header: list[str], delimiter: str) -> Layout:
    names = [name.strip().strip("<>").strip().lower() for name in header]

    def column(*candidates: str) -> int | None:
        return next((names.index(c) for c in candidates if c in names), None)

    missing = [name for name in PRICE_NAMES if name not in names]
    if len(missing) == len(PRICE_NAMES):
        raise CandleFileError(
            "unknown layout: the first line is neither a header naming "
            "timestamp,open,high,low,close,volume columns nor an MT4 "
            "(YYYY.MM.DD,HH:MM,O,H,L,C,V) or HistData (YYYYMMDD HHMMSS;O;H;L;C;V) row"
        )
    if missing:
        raise CandleFileError(f"the header has no {', '.join(missing)} column")
    stamp = column(*TIMESTAMP_NAMES)
    date, time = column("date"), column("time")
    if stamp is not None:
        timestamp: tuple[int, ...] = (stamp,)
    elif date is not None and time is not None:
        timestamp = (date, time)
    elif date is not None:
        timestamp = (date,)
    elif time is not None:
        timestamp = (time,)
    elif names[0] in UNNAMED_FIRST_COLUMN:
        timestamp = (0,)
    else:
        raise CandleFileError(
            "the header has no timestamp column: name it timestamp, time, date or "
            "datetime, or leave the first column's name empty"
        )
    mt5 = all(name.strip().startswith("<") for name in header if name.strip())
    return Layout(
        name="MetaTrader 5" if mt5 else "CSV with header",
        delimiter=delimiter,
        header=True,
        width=len(names),
        timestamp=timestamp,
        prices=(
            names.index("open"),
            names.index("high"),
            names.index("low"),
            names.index("close"),
        ),
        volume=column(*VOLUME_NAMES),
        tick_volume=column(*TICK_VOLUME_NAMES),
    )
