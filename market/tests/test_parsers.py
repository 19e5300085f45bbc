from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.layouts import CandleFileError
from market.parsers import BadRow, CandleFile, timestamp_parse, utc_offset_parse
from market.tests.factories import BAD, BAD_LINES


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_bad_rows_are_parsed_with_exact_lines_and_reasons():
    rows = list(CandleFile(StringIO(BAD)))
    assert {
        row.line: row.reason for row in rows if isinstance(row, BadRow)
    } == BAD_LINES
    assert [row.line for row in rows if not isinstance(row, BadRow)] == [2, 13]


def test_duplicates_in_a_descending_file_point_at_the_first_line():
    hours = (5, 4, 3, 4, 2, 5, 3)
    text = "timestamp,open,high,low,close\n" + "".join(
        f"2024-01-02T{hour:02d}:00:00Z,1,2,1,2\n" for hour in hours
    )
    rows = list(CandleFile(StringIO(text)))
    assert [row.reason for row in rows if isinstance(row, BadRow)] == [
        "timestamp 2024-01-02T04:00:00Z repeats line 3",
        "timestamp 2024-01-02T05:00:00Z repeats line 2",
        "timestamp 2024-01-02T03:00:00Z repeats line 4",
    ]
    assert [row.line for row in rows if isinstance(row, BadRow)] == [5, 7, 8]


@given(st.lists(st.integers(min_value=0, max_value=30), max_size=60), st.booleans())
def test_every_repeated_timestamp_names_the_first_line_that_had_it(hours, descending):
    if descending:
        hours = sorted(hours, reverse=True)
    text = "timestamp,open,high,low,close\n" + "".join(
        f"{1704153600 + hour * 3600},1,2,1,2\n" for hour in hours
    )
    first_line: dict[int, int] = {}
    expected = {}
    for line, hour in enumerate(hours, start=2):
        if first_line.setdefault(hour, line) != line:
            expected[line] = first_line[hour]
    rows = list(CandleFile(StringIO(text)))
    assert {
        row.line: int(row.reason.rsplit(" ", 1)[1])
        for row in rows
        if isinstance(row, BadRow)
    } == expected
    assert [row.line for row in rows if not isinstance(row, BadRow)] == sorted(
        first_line.values()
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-04-19 09:00:00", utc(2017, 4, 19, 9)),
        ("2017-04-19T09:00:00Z", utc(2017, 4, 19, 9)),
        ("2017-04-19T11:00:00+02:00", utc(2017, 4, 19, 9)),
        ("2017.04.19 09:00", utc(2017, 4, 19, 9)),
        ("2017-04-19", utc(2017, 4, 19)),
        ("20170419 090000", utc(2017, 4, 19, 9)),
        ("1492592400", utc(2017, 4, 19, 9)),
        ("1492592400000", utc(2017, 4, 19, 9)),
        ("1492592400.5", utc(2017, 4, 19, 9, 0, 0, 500000)),
        ("99999999999", utc(5138, 11, 16, 9, 46, 39)),
        ("100000000000", utc(1973, 3, 3, 9, 46, 40)),
    ],
)
def test_timestamp_parse_reads_iso_dotted_dates_and_epochs(text, expected):
    assert timestamp_parse(text, utc_offset=timedelta(0)) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2017-13-01", "2017-04-19 25:00"])
def test_timestamp_parse_rejects_what_is_not_a_time(text):
    with pytest.raises(ValueError, match="unparsable timestamp"):
        timestamp_parse(text, utc_offset=timedelta(0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+02:00", timedelta(hours=2)),
        ("-05:00", timedelta(hours=-5)),
        ("-0530", -timedelta(hours=5, minutes=30)),
        ("+03", timedelta(hours=3)),
        ("Z", timedelta(0)),
        ("+14:00", timedelta(hours=14)),
    ],
)
def test_utc_offset_parse_accepts_signed_hours_and_minutes(text, expected):
    assert utc_offset_parse(text) == expected


def test_layout_errors_are_candle_file_errors():
    with pytest.raises(CandleFileError):
        CandleFile(StringIO("a,b,c\n"))
