"""What each cached signal answer depends on, and what each write changes.

A cached answer is stored with the versions of the names below; a write bumps the
names of what it changed (api.caching.cache_bump), so only the answers that may
contain the change miss afterwards:

- "signals": every answer not filtered by pair (the unfiltered list, feed and stats
  can contain any signal); bumped by every write.
- "signals:pair:EUR/USD": the answers filtered by pairs, one name per pair asked for;
  bumped for the pairs a write's signals had before and after it.
- "signals:id:42": the detail of one signal; bumped when it changes or goes. A new
  signal bumps none: ids are never reused and a 404 is not cached.
"""

import re
from collections.abc import Iterable, Mapping
from functools import partial

from django.db import transaction

from api.caching import cache_bump
from core.vocabulary import pair_list, pairs_invalid

SIGNALS_NAMESPACE = "signals"  # where the signal answers are stored
DETAIL_PATH = re.compile(r"/api/signals/(\d+)/\Z")


def pair_version(pair: str) -> str:
    return f"{SIGNALS_NAMESPACE}:pair:{pair}"


def signal_version(signal_id: int) -> str:
    return f"{SIGNALS_NAMESPACE}:id:{signal_id}"


def answer_versions(path: str, query: Mapping[str, str]) -> tuple[str, ...]:
    """The names a signal answer at `path` with `query` depends on. A `pair`
    value the filter would refuse gets a 400, which is never cached."""
    detail = DETAIL_PATH.match(path)
    if detail:
        return (signal_version(int(detail[1])),)
    pairs = set(pair_list(query.get("pair", "")))
    if pairs_invalid(pairs):
        return (SIGNALS_NAMESPACE,)  # no filter, or a 400: no version per junk value
    return tuple(pair_version(pair) for pair in sorted(pairs))


def signals_changed(*, pairs: Iterable[str], ids: Iterable[int] = ()) -> None:
    """Invalidate, on commit of the current transaction, the answers that may
    contain signals of these pairs (as they were before and after the write) and
    the details of these ids."""
    names = [
        SIGNALS_NAMESPACE,
        *{pair_version(pair) for pair in pairs},
        *(signal_version(signal_id) for signal_id in set(ids)),
    ]
    transaction.on_commit(partial(cache_bump, *names))
