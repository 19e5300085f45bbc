"""The journal's receivers of other apps' events (journal/receivers.py)."""

import pytest

from journal.tests.factories import JournalEntryFactory
from signals.models import Signal
from signals.services import signals_delete
from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_signal_refreshes_the_journals_that_referred_to_it(
    user, user_client, any_cache, django_capture_on_commit_callbacks
):
    signal = SignalFactory()
    JournalEntryFactory(owner=user, signal=signal)
    user_client.get("/api/journal/")
    assert user_client.get("/api/journal/")["X-Cache"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        signals_delete(queryset=Signal.objects.filter(pk=signal.pk))
    fresh = user_client.get("/api/journal/")
    assert fresh["X-Cache"] == "MISS"
    assert fresh.json()["results"][0]["signal"] is None
