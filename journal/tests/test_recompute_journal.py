from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from journal.models import JournalEntry
from journal.services import stats_rebuild
from journal.tests.factories import JournalEntryFactory, closed

pytestmark = pytest.mark.django_db


def recompute(*args: str) -> str:
    out = StringIO()
    call_command("recompute_journal", *args, stdout=out)
    return out.getvalue()


def spoil(*entries: JournalEntry) -> None:
    """Stored derived fields that no longer follow from the prices."""
    JournalEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
        pnl=Decimal("-1"), pips=Decimal("3"), r_multiple=None, outcome="loss"
    )


def test_recompute_repairs_derived_fields_in_batches_and_reports_progress(user):
    entries = JournalEntryFactory.create_batch(5, owner=user, **closed())
    spoil(*entries[:3])
    output = recompute("--batch-size", "2")
    assert "Recomputing 5 journal entries" in output
    assert output.count("checked,") == 3 + 1  # three batches, then the total
    assert "Done: 5 checked, 3 changed." in output
    for entry in JournalEntry.objects.all():
        assert (entry.pnl, entry.pips, entry.r_multiple, entry.outcome) == (
            Decimal("50"),
            Decimal("50"),
            Decimal("1"),
            "win",
        )


def test_recompute_is_idempotent(user):
    JournalEntryFactory(owner=user, **closed())
    JournalEntryFactory(owner=user, pnl=Decimal("-2.5"), **closed())
    JournalEntryFactory(
        owner=user,
        pair="USD/JPY",
        entry_price=Decimal("150.123"),
        stop_loss=Decimal("149.7"),
        **closed(exit_price=Decimal("151.01")),
    )
    JournalEntryFactory(owner=user)
    before = list(JournalEntry.objects.values())
    assert "0 changed" in recompute()
    assert "0 changed" in recompute()
    assert list(JournalEntry.objects.values()) == before


def test_recompute_keeps_a_clients_pnl(user):
    entry = JournalEntryFactory(owner=user, pnl=Decimal("-2.5"), **closed())
    JournalEntry.objects.filter(pk=entry.pk).update(outcome="win", pips=None)
    recompute()
    entry.refresh_from_db()
    assert (entry.pnl, entry.outcome, entry.pips) == (
        Decimal("-2.5"),
        "loss",
        Decimal("50"),
    )


def test_recompute_follows_a_changed_pip_size(user, settings):
    entry = JournalEntryFactory(
        owner=user,
        pair="BTC/USDT",
        entry_price=Decimal("60000"),
        stop_loss=Decimal("59000"),
        quantity=Decimal("0.5"),
        **closed(exit_price=Decimal("60500")),
    )
    assert entry.pips == Decimal("5000000")
    settings.PIP_SIZES = {"BTC/USDT": "1"}
    assert "1 changed" in recompute()
    entry.refresh_from_db()
    assert entry.pips == Decimal("500") and entry.pnl == Decimal("250")


def test_recompute_for_one_user_leaves_the_others_alone(user, other_user):
    mine = JournalEntryFactory(owner=user, **closed())
    theirs = JournalEntryFactory(owner=other_user, **closed())
    spoil(mine, theirs)
    assert "1 checked, 1 changed" in recompute("--user", user.username)
    assert "1 changed" in recompute("--user", str(other_user.id))
    mine.refresh_from_db()
    assert mine.outcome == "win"


def test_recompute_refreshes_the_cached_answers_of_affected_users(
    user, user_client, django_capture_on_commit_callbacks
):
    entry = JournalEntryFactory(owner=user, **closed())
    spoil(entry)
    stats_rebuild(owner_id=user.id)  # the raw spoiling bypassed the maintained stats
    assert user_client.get("/api/journal/stats/").json()["losses"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        recompute()
    assert user_client.get("/api/journal/stats/").json()["wins"] == 1


def test_recompute_rejects_an_unknown_user_and_a_bad_batch_size():
    with pytest.raises(CommandError, match="No user"):
        recompute("--user", "nobody")
    with pytest.raises(CommandError, match="batch-size"):
        recompute("--batch-size", "0")
