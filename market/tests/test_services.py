"""The import service, driven through `manage.py import_candles` to check its report."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from market import services
from market.models import Candle
from market.tests.factories import BAD, BAD_LINES

pytestmark = pytest.mark.django_db

GENERIC = """timestamp,open,high,low,close,volume
2024-01-02T00:00:00Z,1.1000,1.1010,1.0990,1.1005,100
2024-01-02T01:00:00Z,1.1005,1.1020,1.1000,1.1015,200
2024-01-02T02:00:00Z,1.1015,1.1030,1.1010,1.1020,300
"""


def write(tmp_path: Path, text: str, name: str = "candles.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *args: str, **options: object) -> str:
    options = {"pair": "EUR/USD", "timeframe": "1h", **options}
    out = StringIO()
    call_command("import_candles", str(path), *args, stdout=out, **options)
    return out.getvalue()


def stored(pair: str = "EUR/USD", timeframe: str = "1h") -> list[tuple]:
    return list(
        Candle.objects.series(pair, timeframe)
        .order_by("timestamp")
        .values_list("timestamp", "open", "high", "low", "close", "volume")
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- layouts -----------------------------------------------------------------------


def test_generic_csv_is_imported_with_exact_values(tmp_path):
    output = run(write(tmp_path, GENERIC))
    assert stored() == [
        (
            utc(2024, 1, 2, 0),
            Decimal("1.1"),
            Decimal("1.101"),
            Decimal("1.099"),
            Decimal("1.1005"),
            Decimal(100),
        ),
        (
            utc(2024, 1, 2, 1),
            Decimal("1.1005"),
            Decimal("1.102"),
            Decimal("1.1"),
            Decimal("1.1015"),
            Decimal(200),
        ),
        (
            utc(2024, 1, 2, 2),
            Decimal("1.1015"),
            Decimal("1.103"),
            Decimal("1.101"),
            Decimal("1.102"),
            Decimal(300),
        ),
    ]
    assert "CSV with header" in output
    assert (
        "Imported 3 new candles (0 already present) from 3 rows; skipped lines: none"
        in output
    )


def test_generic_header_is_case_insensitive_and_in_any_order(tmp_path):
    text = """Volume,CLOSE,Low,High,Open,TimeStamp
7,1.5,1.0,2.0,1.2,2024-01-02 00:00:00
"""
    run(write(tmp_path, text))
    assert stored() == [
        (
            utc(2024, 1, 2),
            Decimal("1.2"),
            Decimal(2),
            Decimal(1),
            Decimal("1.5"),
            Decimal(7),
        )
    ]


def test_unnamed_first_column_is_the_timestamp(tmp_path):
    text = """,Open,High,Low,Close,Volume
2017-04-19 09:00:00,1.0716,1.0722,1.07083,1.07219,1413
"""
    run(write(tmp_path, text))
    assert stored()[0][:2] == (utc(2017, 4, 19, 9), Decimal("1.0716"))


@pytest.mark.parametrize("name", ["time", "date", "datetime", "Date_Time"])
def test_timestamp_column_may_be_named_time_date_or_datetime(tmp_path, name):
    text = f"{name},open,high,low,close,volume\n2024-01-02 05:00,1,2,1,2,0\n"
    run(write(tmp_path, text))
    assert stored()[0][0] == utc(2024, 1, 2, 5)


def test_separate_date_and_time_columns_are_joined(tmp_path):
    text = "Date,Time,Open,High,Low,Close,Volume\n2024.01.02,13:30,1,2,1,2,5\n"
    run(write(tmp_path, text))
    assert stored()[0][0] == utc(2024, 1, 2, 13, 30)


def test_header_without_volume_stores_zero_volume(tmp_path):
    run(write(tmp_path, "timestamp,open,high,low,close\n2024-01-02,1,2,1,2\n"))
    assert stored()[0][5] == 0


def test_epoch_seconds_and_milliseconds_are_told_apart_by_magnitude(tmp_path):
    text = """timestamp,open,high,low,close,volume
1704153600,1,2,1,2,0
1704157200000,1,2,1,2,0
"""
    run(write(tmp_path, text))
    assert [row[0] for row in stored()] == [utc(2024, 1, 2, 0), utc(2024, 1, 2, 1)]


def test_epoch_milliseconds_keep_their_milliseconds(tmp_path):
    run(write(tmp_path, "timestamp,open,high,low,close\n1704153600123,1,2,1,2\n"))
    assert stored()[0][0] == utc(2024, 1, 2, 0, 0, 0, 123000)


def test_epoch_timestamps_ignore_utc_offset(tmp_path):
    run(
        write(tmp_path, "timestamp,open,high,low,close\n1704153600,1,2,1,2\n"),
        utc_offset="+03:00",
    )
    assert stored()[0][0] == utc(2024, 1, 2)


def test_iso_times_with_an_offset_are_converted_to_utc(tmp_path):
    text = """timestamp,open,high,low,close,volume
2024-01-02T03:00:00+03:00,1,2,1,2,0
2024-01-02T01:00:00Z,1,2,1,2,0
2024-01-01T21:00:00-05:00,1,2,1,2,0
"""
    run(write(tmp_path, text), utc_offset="+09:00")  # applies to naive times only
    assert [row[0] for row in stored()] == [
        utc(2024, 1, 2, 0),
        utc(2024, 1, 2, 1),
        utc(2024, 1, 2, 2),
    ]


def test_utc_offset_shifts_naive_times_to_utc(tmp_path):
    path = write(tmp_path, "timestamp,open,high,low,close\n2024-01-02 02:00,1,2,1,2\n")
    run(path, utc_offset="+02:00")
    run(path, pair="GBP/USD", utc_offset="-0530")
    assert stored()[0][0] == utc(2024, 1, 2, 0)
    assert stored("GBP/USD")[0][0] == utc(2024, 1, 2, 7, 30)


def test_mt4_export_without_header_is_imported(tmp_path):
    text = "2024.01.02,00:00,1.1000,1.1010,1.0990,1.1005,100\n2024.01.02,01:00,1.1005,1.1020,1.1000,1.1015,200\n"
    output = run(write(tmp_path, text), utc_offset="+02:00")
    assert "MetaTrader 4" in output
    assert stored() == [
        (
            utc(2024, 1, 1, 22),
            Decimal("1.1"),
            Decimal("1.101"),
            Decimal("1.099"),
            Decimal("1.1005"),
            Decimal(100),
        ),
        (
            utc(2024, 1, 1, 23),
            Decimal("1.1005"),
            Decimal("1.102"),
            Decimal("1.1"),
            Decimal("1.1015"),
            Decimal(200),
        ),
    ]


def test_mt5_export_uses_tick_volume_when_real_volume_is_zero(tmp_path):
    text = (
        "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
        "2024.01.02\t00:00:00\t1.10000\t1.10100\t1.09900\t1.10050\t1234\t0\t2\n"
        "2024.01.02\t01:00:00\t1.10050\t1.10200\t1.10000\t1.10150\t999\t5000\t2\n"
    )
    output = run(write(tmp_path, text))
    assert "MetaTrader 5" in output
    assert stored() == [
        (
            utc(2024, 1, 2, 0),
            Decimal("1.1"),
            Decimal("1.101"),
            Decimal("1.099"),
            Decimal("1.1005"),
            Decimal(1234),
        ),
        (
            utc(2024, 1, 2, 1),
            Decimal("1.1005"),
            Decimal("1.102"),
            Decimal("1.1"),
            Decimal("1.1015"),
            Decimal(5000),
        ),
    ]


def test_histdata_times_default_to_utc_minus_five_hours(tmp_path):
    text = "20240102 000000;1.1000;1.1010;1.0990;1.1005;0\n20240102 000100;1.1005;1.1020;1.1000;1.1015;0\n"
    output = run(write(tmp_path, text), timeframe="1m")
    assert "HistData ASCII" in output and "UTC-05:00" in output
    assert [row[0] for row in stored(timeframe="1m")] == [
        utc(2024, 1, 2, 5, 0),
        utc(2024, 1, 2, 5, 1),
    ]


def test_histdata_utc_offset_option_replaces_the_default(tmp_path):
    run(
        write(tmp_path, "20240102 000000;1.1;1.2;1.0;1.1;0\n"),
        timeframe="1m",
        utc_offset="+00:00",
    )
    assert stored(timeframe="1m")[0][0] == utc(2024, 1, 2)


def test_utf8_bom_crlf_and_blank_lines_are_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(
        b"\xef\xbb\xbftimestamp,open,high,low,close\r\n\r\n2024-01-02,1,2,1,2\r\n\r\n"
    )
    assert "from 1 rows" in run(path)
    assert len(stored()) == 1


def test_utf16_file_with_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "mt5.csv"
    path.write_text(
        "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n2024.01.02\t00:00:00\t1\t2\t1\t2\t3\t0\t1\n",
        encoding="utf-16",
    )
    run(path)
    assert stored()[0][5] == 3


def test_prices_are_rounded_to_the_columns_eight_places(tmp_path):
    run(
        write(tmp_path, "timestamp,open,high,low,close\n2024-01-02,1.123456789,2,1,2\n")
    )
    assert stored()[0][1] == Decimal("1.12345679")


# --- bad rows ----------------------------------------------------------------------


def test_bad_rows_abort_the_import_with_their_line_numbers_and_reasons(tmp_path):
    with pytest.raises(CommandError) as raised:
        run(write(tmp_path, BAD))
    message = str(raised.value)
    assert message.startswith("9 bad rows in ")
    assert "nothing was imported" in message
    for line, reason in BAD_LINES.items():
        assert f"  line {line}: {reason}\n" in message + "\n"
    assert Candle.objects.count() == 0


def test_bad_row_after_written_batches_rolls_everything_back(tmp_path, monkeypatch):
    monkeypatch.setattr(services, "WRITE_BATCH", 2)
    good = "".join(f"2024-01-02T{hour:02d}:00:00Z,1,2,1,2,0\n" for hour in range(10))
    path = write(
        tmp_path, "timestamp,open,high,low,close,volume\n" + good + "x,1,2,1,2,0\n"
    )
    with pytest.raises(CommandError, match="line 12: unparsable timestamp 'x'"):
        run(path)
    assert Candle.objects.count() == 0


def test_skip_bad_rows_imports_the_rest_and_lists_skipped_lines(tmp_path):
    output = run(write(tmp_path, BAD), skip_bad_rows=True)
    assert [row[0] for row in stored()] == [utc(2024, 1, 2, 0), utc(2024, 1, 2, 9)]
    assert (
        "Imported 2 new candles (0 already present) from 11 rows; "
        "skipped lines: 3, 5, 6, 7, 8, 9, 10, 11, 12"
    ) in output
    assert "line 11: timestamp 2024-01-02T00:00:00Z repeats line 2" in output


def test_duplicate_timestamp_keeps_the_first_row(tmp_path):
    text = """timestamp,open,high,low,close
2024-01-02 00:00,1,2,1,2
2024-01-02 01:00,1,2,1,2
2024-01-02T02:00:00+02:00,1.5,2,1,2
"""
    with pytest.raises(
        CommandError, match="line 4: timestamp 2024-01-02T00:00:00Z repeats line 2"
    ):
        run(write(tmp_path, text))
    run(write(tmp_path, text), skip_bad_rows=True)
    assert [row[1] for row in stored()] == [Decimal(1), Decimal(1)]


def test_bad_row_listing_is_capped(tmp_path):
    rows = "".join(f"2024-01-02T00:{minute:02d}:00Z,1,1,2,1\n" for minute in range(25))
    with pytest.raises(CommandError) as raised:
        run(write(tmp_path, "timestamp,open,high,low,close\n" + rows))
    message = str(raised.value)
    assert message.count("is below low") == 20
    assert "line 21: high 1 is below low 2" in message
    assert "line 22:" not in message
    assert message.endswith("… and 5 more")
    output = run(
        write(
            tmp_path, "timestamp,open,high,low,close\n" + rows + "2024-01-03,1,2,1,2\n"
        ),
        skip_bad_rows=True,
    )
    assert (
        "skipped lines: " + ", ".join(str(n) for n in range(2, 22)) + " and 5 more"
        in output
    )
    assert "Imported 1 new candles (0 already present) from 26 rows" in output


# --- re-import ---------------------------------------------------------------------


def test_reimporting_the_same_file_adds_nothing(tmp_path):
    path = write(tmp_path, GENERIC)
    run(path)
    output = run(path)
    assert len(stored()) == 3
    assert "Imported 0 new candles (3 already present) from 3 rows" in output


def test_overlapping_file_adds_only_new_candles_and_keeps_stored_values(tmp_path):
    run(write(tmp_path, GENERIC))
    overlap = """timestamp,open,high,low,close,volume
2024-01-02T02:00:00Z,9,9,9,9,9
2024-01-02T03:00:00Z,1.1020,1.1040,1.1010,1.1030,400
"""
    output = run(write(tmp_path, overlap, "overlap.csv"))
    assert "Imported 1 new candles (1 already present) from 2 rows" in output
    assert [row[1] for row in stored()] == [
        Decimal("1.1"),
        Decimal("1.1005"),
        Decimal("1.1015"),
        Decimal("1.102"),
    ]


def test_same_file_for_another_pair_or_timeframe_is_stored_separately(tmp_path):
    path = write(tmp_path, GENERIC)
    run(path)
    run(path, pair="GBP/USD")
    run(path, timeframe="4h")
    assert Candle.objects.count() == 9


@pytest.mark.postgresql
def test_postgresql_import_copies_rows_in_a_constant_number_of_queries(
    tmp_path, django_assert_max_num_queries
):
    rows = "".join(f"{1704153600 + minute * 60},1,2,1,2\n" for minute in range(3000))
    path = write(tmp_path, "timestamp,open,high,low,close\n" + rows)
    with django_assert_max_num_queries(8):
        run(path, timeframe="1m")
    assert Candle.objects.count() == 3000


@pytest.mark.postgresql
def test_postgresql_import_drops_its_staging_table(tmp_path):
    from django.db import connection

    run(write(tmp_path, GENERIC))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.candle_import_stage')")
        assert cursor.fetchone() == (None,)


# --- arguments and file errors -----------------------------------------------------


@pytest.mark.parametrize("pair", ["eur/usd", "EURUSD", "E/USD", "EUR/USD/JPY", ""])
def test_invalid_pair_is_a_command_error(tmp_path, pair):
    with pytest.raises(CommandError, match="invalid pair"):
        run(write(tmp_path, GENERIC), pair=pair)
    assert Candle.objects.count() == 0


def test_invalid_timeframe_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="invalid choice: '2h'"):
        run(write(tmp_path, GENERIC), timeframe="2h")


@pytest.mark.parametrize("offset", ["2", "+2:00", "+15:00", "+02:60", "UTC+2"])
def test_invalid_utc_offset_is_a_command_error(tmp_path, offset):
    with pytest.raises(CommandError, match="--utc-offset: expected"):
        run(write(tmp_path, GENERIC), utc_offset=offset)


def test_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read .*missing.csv"):
        run(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file has no rows"),
        ("\n\n", "the file has no rows"),
        ("2024-01-02,1,2,1,2,0\n", "unknown layout"),
        ("timestamp,open,high,low,volume\n", "the header has no close column"),
        ("when,open,high,low,close\n", "no timestamp column"),
    ],
)
def test_unreadable_layout_is_a_command_error(tmp_path, text, message):
    with pytest.raises(CommandError, match=message):
        run(write(tmp_path, text))


def test_header_only_file_imports_nothing(tmp_path):
    output = run(write(tmp_path, "timestamp,open,high,low,close\n"))
    assert "Imported 0 new candles (0 already present) from 0 rows" in output


def test_progress_is_reported_every_n_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    rows = "".join(f"2024-01-02T{hour:02d}:00:00Z,1,2,1,2\n" for hour in range(5))
    output = run(write(tmp_path, "timestamp,open,high,low,close\n" + rows))
    assert (
        "… 2 rows read\n… 4 rows read\n… all 5 rows read; finishing the write\n"
    ) in output


# --- the real file -----------------------------------------------------------------


def test_real_eurusd_file_imports_5000_candles_once(market_data):
    first = StringIO()
    call_command(
        "import_candles", str(market_data), pair="EUR/USD", timeframe="1h", stdout=first
    )
    assert (
        "Imported 5000 new candles (0 already present) from 5000 rows; skipped lines: none"
        in first.getvalue()
    )
    candles = Candle.objects.series("EUR/USD", "1h")
    assert candles.count() == 5000
    earliest = candles.order_by("timestamp").first()
    assert earliest.timestamp == utc(2017, 4, 19, 9)
    assert earliest.open == Decimal("1.0716")
    assert (earliest.high, earliest.low, earliest.close, earliest.volume) == (
        Decimal("1.0722"),
        Decimal("1.07083"),
        Decimal("1.07219"),
        Decimal(1413),
    )
    assert candles.order_by("timestamp").last().timestamp == utc(2018, 2, 7, 15)

    second = StringIO()
    call_command(
        "import_candles",
        str(market_data),
        pair="EUR/USD",
        timeframe="1h",
        stdout=second,
    )
    assert (
        "Imported 0 new candles (5000 already present) from 5000 rows"
        in second.getvalue()
    )
    assert candles.count() == 5000
