"""What each cached journal answer depends on: one version per user, bumped after
every write of that user's entries, so a user never reads another's answers and
never an answer older than a write of theirs."""

from collections.abc import Iterable
from functools import partial

from django.db import transaction

from api.caching import cache_bump


def journal_namespace(user_id: int) -> str:
    """The response cache's namespace of one user's journal answers."""
    return f"journal:{user_id}"


def journal_bump_after_commit(owner_ids: Iterable[int]) -> None:
    """Invalidate these owners' cached journal answers once the write commits."""
    for owner_id in set(owner_ids):
        transaction.on_commit(partial(cache_bump, journal_namespace(owner_id)))
