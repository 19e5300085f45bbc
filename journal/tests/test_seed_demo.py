import pytest
from django.core.management import call_command

from journal.models import JournalEntry
from market.models import Candle
from signals.models import Signal

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_candles_signals_outcomes_and_a_journal(capsys, client):
    call_command("seed_demo")
    assert (
        Candle.objects.filter(source="synthetic").values("pair").distinct().count() >= 6
    )
    assert not Candle.objects.exclude(source="synthetic").exists()
    signals = Signal.objects.all()
    assert signals.count() > 10
    assert signals.exclude(outcome="pending").exists()
    assert set(signals.values_list("strategy", flat=True)) == {"trend_momentum"}
    entries = JournalEntry.objects.filter(owner__username="demo")
    assert entries.exclude(closed_at=None).count() > 5
    assert entries.filter(closed_at=None).count() == 2
    assert client.login(username="demo", password="demo-password")
    stats = client.get("/api/journal/stats/").json()
    assert stats["closed_trades"] == entries.exclude(closed_at=None).count()
    before = (Candle.objects.count(), signals.count(), entries.count())
    call_command("seed_demo", "--candles", "700")
    assert (Candle.objects.count(), signals.count(), entries.count()) == before
    call_command("seed_demo", "--if-empty")
    assert "not seeded" in capsys.readouterr().out
