"""GET /api/journal/export.csv: own entries, the list's filters, streamed."""

import csv
import io
from decimal import Decimal

import pytest

from journal.parsers import read_rows
from journal.tests.factories import JournalEntryFactory, closed, entry_payload

pytestmark = pytest.mark.django_db
EXPORT = "/api/journal/export.csv"


def lines(response) -> list[dict]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_has_own_entries_newest_first_with_their_tags(
    user, other_user, user_client
):
    older = user_client.post(
        "/api/journal/", entry_payload(tags=["b", "a"], fees=1.5), format="json"
    ).json()
    newer = user_client.post(
        "/api/journal/",
        entry_payload(
            opened_at="2026-02-01T00:00:00Z", closed_at=None, exit_price=None
        ),
        format="json",
    ).json()
    JournalEntryFactory(owner=other_user, notes="ben's")
    rows = lines(user_client.get(EXPORT, HTTP_ACCEPT="text/csv"))
    assert [int(row["id"]) for row in rows] == [newer["id"], older["id"]]
    assert rows[1]["tags"] == "a,b" and rows[1]["fees"] == "1.5"
    assert rows[1]["pnl"] == "48.5" and rows[1]["gross_pnl"] == "50"
    assert rows[1]["opened_at"] == "2026-01-05T10:00:00Z"
    assert rows[0]["exit_price"] == "" and rows[0]["outcome"] == "pending"


def test_the_export_takes_the_lists_filters(user, user_client):
    JournalEntryFactory(owner=user, pair="USD/JPY", entry_price=Decimal("150"))
    JournalEntryFactory(owner=user, **closed())
    rows = lines(user_client.get(f"{EXPORT}?pair=USD/JPY"))
    assert [row["pair"] for row in rows] == ["USD/JPY"]
    assert lines(user_client.get(f"{EXPORT}?outcome=win"))[0]["outcome"] == "win"
    response = user_client.get(f"{EXPORT}?pair=usd")
    assert response.status_code == 400 and "pair" in response.json()


def test_text_a_spreadsheet_would_run_is_escaped(user, user_client):
    JournalEntryFactory(owner=user, notes="=HYPERLINK(1)")
    assert lines(user_client.get(EXPORT))[0]["notes"] == "'=HYPERLINK(1)"


def test_the_export_reads_back_as_a_csv_import(user, user_client):
    user_client.post("/api/journal/", entry_payload(tags=["x"]), format="json")
    text = b"".join(user_client.get(EXPORT).streaming_content).decode()
    [(line, row)] = list(read_rows("csv", io.StringIO(text)))
    assert row["pair"] == "EUR/USD" and row["tags"] == ["x"]
    assert row["gross_pnl"] == Decimal("50")


def test_the_export_runs_a_constant_number_of_queries(
    user, user_client, django_assert_max_num_queries
):
    JournalEntryFactory.create_batch(30, owner=user, **closed())
    with django_assert_max_num_queries(3):  # the entries, their tags (a batch)
        rows = lines(user_client.get(EXPORT))
    assert len(rows) == 30


def test_anonymous_export_is_401(api_client):
    assert api_client.get(EXPORT).status_code == 401
