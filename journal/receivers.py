"""Receivers of other apps' events, connected in JournalConfig.ready()."""

from typing import Any

from django.dispatch import receiver

from signals.models import Signal
from signals.services import signals_deleting

from .cache_versions import journal_bump_after_commit
from .models import JournalEntry


@receiver(signals_deleting, sender=Signal)
def signals_deleted(sender: type, ids: list[int], **kwargs: Any) -> None:
    """Entries that referred to deleted signals lose the link (SET_NULL): their
    owners' cached journal answers must go once the delete commits."""
    owners = (
        JournalEntry.objects.filter(signal_id__in=ids)
        .order_by()
        .values_list("owner_id", flat=True)
        .distinct()
    )
    journal_bump_after_commit(owners)
