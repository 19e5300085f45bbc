"""journal.parsers on text alone."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from journal.parsers import FileError, Refusal, number, pair, read_rows

SAMPLES = Path(__file__).parent / "samples"
D = Decimal


@pytest.mark.parametrize(
    "text, value",
    [
        ("1,234.50", D("1234.50")),
        ("1 234 567.5", D("1234567.5")),
        ("1'000", D("1000")),
        ("-0.25", D("-0.25")),
        ("1.10000", D("1.1")),
        ("", None),
    ],
)
def test_numbers_may_carry_thousands_separators(text, value):
    assert number(text) == value


@pytest.mark.parametrize("text", ["1,23", "abc", "NaN", "1.2.3"])
def test_bad_numbers_are_errors(text):
    with pytest.raises(ValueError):
        number(text)


def test_symbols_become_pairs():
    assert [pair(s) for s in ("EURUSD", "eurusd.m", "XAUUSD#", "EUR/USD")] == [
        "EUR/USD",
        "EUR/USD",
        "XAU/USD",
        "EUR/USD",
    ]
    with pytest.raises(ValueError):
        pair("US500")


def rows(name: str, format: str, mapping: dict | None = None) -> list:
    with (SAMPLES / name).open(encoding="utf-8-sig", newline="") as lines:
        return list(read_rows(format, lines, mapping))


MAPPING = {
    "ticket": "Ticket",
    "pair": "Symbol",
    "direction": "Side",
    "opened_at": "Open time",
    "closed_at": "Close time",
    "entry_price": "Open",
    "exit_price": "Close",
    "stop_loss": "Stop",
    "quantity": "Size",
    "fees": "Commission",
    "swap": "Swap",
    "gross_pnl": "Profit",
    "tags": "Labels",
}


def test_a_generic_csv_with_a_bom_and_a_mapping():
    found = rows("generic.csv", "csv", MAPPING)
    assert [line for line, _ in found] == [2, 3, 4, 5]
    first = found[0][1]
    assert first == {
        "ticket": "T-1",
        "pair": "EUR/USD",
        "direction": "buy",
        "opened_at": datetime(2026, 1, 5, 10),
        "closed_at": datetime(2026, 1, 5, 12),
        "entry_price": D("1.1"),
        "exit_price": D("1.105"),
        "stop_loss": D("1.095"),
        "quantity": D("10000"),
        "fees": D("2.5"),
        "swap": D("-0.4"),
        "gross_pnl": D("1050.25"),
        "tags": ["news", "A grade"],
    }
    assert found[1][1]["opened_at"] == datetime(2026, 1, 6, 8, 30, tzinfo=UTC)
    assert "exit_price" not in found[3][1] and "ticket" not in found[3][1]


def test_a_csv_without_a_needed_column_is_a_file_error():
    with pytest.raises(FileError, match="missing columns"):
        rows("generic.csv", "csv", {**MAPPING, "pair": "Instrument"})
    with pytest.raises(FileError, match="unknown fields"):
        rows("generic.csv", "csv", {**MAPPING, "owner": "Ticket"})
    with pytest.raises(FileError, match="empty"):
        list(read_rows("csv", io.StringIO("")))


def test_a_bad_cell_refuses_its_row_only():
    text = "pair,direction,entry_price,quantity,opened_at\n"
    text += "EUR/USD,buy,1.1,1,2026-01-01\nEUR/USD,buy,one,1,2026-01-01\n"
    found = list(read_rows("csv", io.StringIO(text)))
    assert isinstance(found[0][1], dict)
    assert found[1] == (3, Refusal("not a number: 'one'"))


def test_an_mt5_positions_report_with_partial_closes():
    found = rows("mt5_positions.csv", "mt5_csv")
    assert [line for line, _ in found] == [6, 7, 8, 9]
    first, second, gold, _ = (row for _, row in found)
    # Two partial closes of one position: two tickets, position id and close time.
    assert first["ticket"] == "81234567@2026-01-05T12:00:00"
    assert second["ticket"] == "81234567@2026-01-05T14:30:00"
    assert (first["fees"], first["gross_pnl"], first["quantity"]) == (
        D("3.5"),
        D("250"),
        D("0.5"),
    )
    assert "take_profit" not in first and first["stop_loss"] == D("1.095")
    assert gold["pair"] == "XAU/USD" and gold["entry_price"] == D("2650.50")
    assert (gold["swap"], gold["gross_pnl"]) == (D("-12.40"), D("4025"))


def test_a_file_that_is_no_mt5_report_is_a_file_error():
    with pytest.raises(FileError):
        rows("generic.csv", "mt5_csv")


def test_an_mt5_html_report_reads_as_its_csv_does():
    html = rows("mt5_report.html", "mt5_html")
    csv_rows = [row for _, row in rows("mt5_positions.csv", "mt5_csv")]
    found = [row for _, row in html]
    # The same positions (the HTML repeats the gold one: a duplicated ticket, for
    # the importer to skip); a BOM, colspans and no-break-space thousands.
    assert found[:3] == csv_rows[:3] and found[4] == csv_rows[3]
    assert found[3] == found[2]
    assert len(found) == 5  # the Orders table after it is not read as positions


def test_an_mt4_statement_reads_closed_trades_only():
    found = rows("mt4_statement.htm", "mt4_html")
    tickets = [row["ticket"] for _, row in found]
    # No balance row, no cancelled order, nothing from Open Trades.
    assert tickets == [
        "41000010@2026-01-05T12:00:00",
        "41000020@2026-01-06T11:00:00",
        "41000021@2026-01-07T15:00:00",
        "41000040@2026-01-08T16:00:00",
    ]
    eur, first_part, rest, gold = (row for _, row in found)
    assert (eur["pair"], eur["direction"], eur["quantity"]) == ("EUR/USD", "buy", D(1))
    assert "take_profit" not in eur and eur["stop_loss"] == D("1.095")
    assert (eur["fees"], eur["gross_pnl"]) == (D(7), D(500))
    # A partial close: two tickets; commission and taxes are both fees.
    assert (first_part["fees"], first_part["swap"]) == (D("4.0"), D("-1.2"))
    assert rest["quantity"] == D("0.5") and rest["fees"] == D("3.5")
    assert first_part["opened_at"] == datetime(2026, 1, 6, 9, 0)
    assert (gold["entry_price"], gold["gross_pnl"]) == (D("2650.50"), D("-2100"))


def test_an_html_file_without_the_table_is_a_file_error():
    with pytest.raises(FileError, match="MetaTrader 4"):
        rows("mt5_report.html", "mt4_html")
    with pytest.raises(FileError, match="MetaTrader 5"):
        rows("mt4_statement.htm", "mt5_html")


def test_html_tables_stream_a_row_split_over_lines_and_entities():
    from journal.html_tables import table_rows

    lines = ["<table><tr><td>a &amp;", " b</td><td colspan=2>c</td>", "<td>d</tr>"]
    assert list(table_rows(lines)) == [(1, ["a & b", "c", "", "d"])]


def test_an_ibkr_flex_query_pairs_executions_first_in_first_out():
    found = rows("ibkr_flex.csv", "ibkr_flex_csv")
    entries = [(line, row) for line, row in found if isinstance(row, dict)]
    refused = [(line, row.reason) for line, row in found if isinstance(row, Refusal)]
    assert [line for line, _ in entries] == [4, 7, 8, 9]
    first, rest, yen, again = (row for _, row in entries)
    # 15,000 closed over two opening fills: 10,000 at 1.10000 and 5,000 at 1.10020.
    assert first["ticket"] == "1003" and first["direction"] == "buy"
    assert first["entry_price"] == D("1.10006667")  # 16,501 / 15,000, 8 places
    assert first["opened_at"] == datetime(2026, 1, 5, 10, 0)
    assert first["gross_pnl"] == D(74)  # 16,575 − 16,501
    assert first["fees"] == D(6)  # 3 of its own, 2 + 1 of the lots consumed
    assert (rest["entry_price"], rest["gross_pnl"], rest["fees"]) == (
        D("1.1002"), D(14), D(2),
    )  # fmt: skip
    # A short USD/JPY: 10,000 JPY of profit at 0.0067 is 67 USD; the commission
    # was charged in USD already.
    assert (yen["direction"], yen["pair"]) == ("sell", "USD/JPY")
    assert (yen["gross_pnl"], yen["fees"]) == (D(67), D(4))
    assert again == yen  # a repeated TradeID: the same entry, for the importer
    assert refused == [
        (10, "not a currency pair: AAPL (STK)"),
        (11, "closes 1000 GBP/USD but only 0 were opened in the file"),
    ]


def test_a_file_without_a_flex_header_is_a_file_error():
    with pytest.raises(FileError, match="Flex"):
        rows("generic.csv", "ibkr_flex_csv")
