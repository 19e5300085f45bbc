"""Imports over the API, the service and the command: dedup, atomicity, isolation."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from journal.models import Account, Import, JournalEntry
from journal.services import account_default
from journal.tests.test_parsers import MAPPING

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).parent / "samples"
IMPORT = "/api/journal/import/"


def upload(client, account: Account, name: str, format: str, **fields):  # type: ignore[no-untyped-def]
    content = fields.pop("content", None) or (SAMPLES / name).read_bytes()
    body = {
        "file": SimpleUploadedFile(name, content),
        "account": account.id,
        "format": format,
        **fields,
    }
    return client.post(IMPORT, body, format="multipart")


@pytest.fixture
def london(user) -> Account:  # type: ignore[no-untyped-def]
    return Account.objects.create(owner=user, name="uk", timezone="Europe/London")


def run(client, account, name, format, capture, **fields) -> dict:  # type: ignore[no-untyped-def]
    with capture(execute=True):  # the task runs eagerly once the row commits
        response = upload(client, account, name, format, **fields)
    assert response.status_code == 202, response.content
    assert set(response.json()) == {"id", "status"}
    answer = client.get(f"{IMPORT}{response.json()['id']}/")
    assert answer.status_code == 200
    return answer.json()


def test_a_generic_csv_imports_once(
    user, user_client, london, django_capture_on_commit_callbacks
):
    mapping = json.dumps(MAPPING)
    body = run(
        user_client,
        london,
        "generic.csv",
        "csv",
        django_capture_on_commit_callbacks,
        mapping=mapping,
    )
    assert body | {"id": 0} == {
        "id": 0,
        "status": "done",
        "progress": 1.0,
        "created": 3,
        "skipped": 1,  # the duplicated ticket T-2
        "refused": [],
        "error": "",
    }
    first = JournalEntry.objects.get(broker_ticket="T-1")
    assert (first.gross_pnl, first.fees, first.swap, first.pnl) == (
        Decimal("1050.25"),
        Decimal("2.5"),
        Decimal("-0.4"),
        Decimal("1047.35"),
    )
    # Naive times are the account's local time (London: UTC in January).
    assert first.opened_at.isoformat() == "2026-01-05T10:00:00+00:00"
    assert sorted(first.tags.values_list("name", flat=True)) == ["a grade", "news"]
    assert first.account == london
    # Again: everything is a duplicate, tickets or not.
    again = run(
        user_client,
        london,
        "generic.csv",
        "csv",
        django_capture_on_commit_callbacks,
        mapping=mapping,
    )
    assert (again["created"], again["skipped"]) == (0, 4)
    assert JournalEntry.objects.count() == 3


def test_an_mt5_report_imports_partial_closes_as_entries(
    user, user_client, london, django_capture_on_commit_callbacks
):
    body = run(
        user_client,
        london,
        "mt5_positions.csv",
        "mt5_csv",
        django_capture_on_commit_callbacks,
    )
    assert (body["status"], body["created"], body["skipped"]) == ("done", 4, 0)
    partial = JournalEntry.objects.filter(broker_ticket__startswith="81234567@")
    assert partial.count() == 2
    gold = JournalEntry.objects.get(pair="XAU/USD")
    assert gold.pnl == Decimal("4025") - 7 - Decimal("12.4")
    stats = user_client.get("/api/journal/stats/").json()
    assert stats["total_fees"] == 15.4 and stats["total_swap"] == -13.15


def test_metatrader_html_statements_import_once(
    user, user_client, london, django_capture_on_commit_callbacks
):
    mt4 = run(
        user_client, london, "mt4_statement.htm", "mt4_html",
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert (mt4["status"], mt4["created"], mt4["skipped"]) == ("done", 4, 0)
    assert JournalEntry.objects.filter(broker_ticket__startswith="4100002").count() == 2
    gold = JournalEntry.objects.get(pair="XAU/USD")
    assert gold.pnl == Decimal("-2100") - 14
    mt5 = run(
        user_client, london, "mt5_report.html", "mt5_html",
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    # The report lists one gold position twice: the second is skipped.
    assert (mt5["status"], mt5["created"], mt5["skipped"]) == ("done", 4, 1)
    again = run(
        user_client, london, "mt4_statement.htm", "mt4_html",
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    assert (again["created"], again["skipped"]) == (0, 4)
    assert JournalEntry.objects.count() == 8


def test_an_ibkr_flex_query_imports_its_round_trips(
    user, user_client, london, django_capture_on_commit_callbacks
):
    body = run(
        user_client, london, "ibkr_flex.csv", "ibkr_flex_csv",
        django_capture_on_commit_callbacks, atomic="false",
    )  # fmt: skip
    assert (body["status"], body["created"], body["skipped"]) == ("done", 3, 1)
    assert [r["row"] for r in body["refused"]] == [10, 11]
    yen = JournalEntry.objects.get(pair="USD/JPY")
    assert (yen.direction, yen.gross_pnl, yen.fees, yen.pnl) == (
        "sell", Decimal(67), Decimal(4), Decimal(63),
    )  # fmt: skip
    again = run(
        user_client, london, "ibkr_flex.csv", "ibkr_flex_csv",
        django_capture_on_commit_callbacks, atomic="false",
    )  # fmt: skip
    assert (again["created"], again["skipped"]) == (0, 4)


def test_an_atomic_import_with_a_refused_row_writes_nothing(
    user, user_client, london, django_capture_on_commit_callbacks
):
    bad = (SAMPLES / "generic.csv").read_text(encoding="utf-8-sig") + (
        "T-9,EURUSD,buy,2026-01-09 10:00:00,2026-01-08 10:00:00,1.1,1.2,,1,0,0,,\n"
    )
    body = run(
        user_client,
        london,
        "bad.csv",
        "csv",
        django_capture_on_commit_callbacks,
        mapping=json.dumps(MAPPING),
        content=bad.encode(),
    )
    assert body["status"] == "done" and body["created"] == 0
    assert body["refused"] == [
        {"row": 6, "reason": "closed_at: Must not be before opened_at."}
    ]
    assert not JournalEntry.objects.exists()
    body = run(
        user_client,
        london,
        "bad.csv",
        "csv",
        django_capture_on_commit_callbacks,
        mapping=json.dumps(MAPPING),
        atomic="false",
        content=bad.encode(),
    )
    assert (body["created"], len(body["refused"])) == (3, 1)


def test_a_file_missing_a_column_fails_with_the_reason(
    user_client, london, django_capture_on_commit_callbacks
):
    body = run(
        user_client, london, "generic.csv", "csv", django_capture_on_commit_callbacks
    )
    assert body["status"] == "failed" and "missing columns" in body["error"]
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize(
    "fields, name",
    [
        ({"format": "xlsx"}, "format"),
        ({"mapping": "{not json"}, "mapping"),
        ({"mapping": "[1]"}, "mapping"),
        ({"account": 0}, "account"),
        ({"atomic": "perhaps"}, "atomic"),
    ],
)
def test_bad_import_requests_are_400_naming_the_field(
    user_client, london, fields, name
):
    body = {
        "file": SimpleUploadedFile("x.csv", b"pair\n"),
        "account": london.id,
        "format": "csv",
        **fields,
    }
    response = user_client.post(IMPORT, body, format="multipart")
    assert response.status_code == 400 and name in response.json()
    assert not Import.objects.exists()


def test_imports_are_per_user(user, other_user, user_client, other_client, london):
    theirs = account_default(owner_id=other_user.id)
    response = upload(user_client, theirs, "generic.csv", "csv")
    assert response.status_code == 400 and "account" in response.json()
    response = upload(user_client, london, "generic.csv", "csv")
    assert other_client.get(f"{IMPORT}{response.json()['id']}/").status_code == 404


def test_the_command_imports_as_the_api_does(user, london, capsys):
    call_command(
        "journal_import",
        str(SAMPLES / "mt5_positions.csv"),
        user=user.username,
        account="uk",
        format="mt5_csv",
    )
    assert "4 created, 0 skipped, 0 refused" in capsys.readouterr().out
    call_command(
        "journal_import",
        str(SAMPLES / "mt5_positions.csv"),
        user=str(user.id),
        account=str(london.id),
        format="mt5_csv",
    )
    assert "0 created, 4 skipped" in capsys.readouterr().out
