"""What each cached signal answer depends on, and what each write changes.

A cached answer is stored with the versions of the names below; a write bumps the
names of what it changed (api.caching.cache_bump), so only the answers that may
contain the change miss afterwards:

- "signals": every answer not filtered by pair (the unfiltered list, feed and stats
  can contain any signal); bumped by every write.
- "signals:pair:EUR/USD": the answers filtered by pairs and nothing finer, one name
  per pair asked for; bumped for every pair a write's rows had before or after it.
- cells, "signals:pair:EUR/USD:status:closed" (and `outcome`, `timeframe`,
  `strategy`): the answers filtered by pairs and one of those columns. Every such
  answer (list, feed, stats) is a function of the rows in the cells its filters
  select, so it depends on those cells only; a write bumps the cells its rows were
  in before it and are in after it. Writing an `active` EUR/USD signal leaves the
  `status=closed` EUR/USD pages alone. With several of those filters, the answer
  depends on the cells of one of them (status first, then outcome, timeframe,
  strategy): a row that changes and matches every filter is in those cells.
- "signals:id:42": the detail of one signal; bumped when it changes or goes. A new
  signal bumps none: ids are never reused and a 404 is not cached.
"""

import re
from collections.abc import Iterable, Mapping
from functools import partial
from typing import NamedTuple

from django.db import transaction

from api.caching import cache_bump
from core.vocabulary import Timeframe, pair_list, pairs_invalid

from .choices import Outcome, Status

SIGNALS_NAMESPACE = "signals"  # where the signal answers are stored
DETAIL_PATH = re.compile(r"/api/signals/(\d+)/\Z")
STRATEGY_NAME = re.compile(r"[^,]{1,50}\Z", re.DOTALL)
# The filter columns with cells, in the order an answer picks its cells by, and
# the values each filter accepts (another value is a 400, never cached).
CELL_COLUMNS: tuple[tuple[str, frozenset[str] | None], ...] = (
    ("status", frozenset(Status.values)),
    ("outcome", frozenset(Outcome.values)),
    ("timeframe", frozenset(Timeframe.values)),
    ("strategy", None),  # a comma-separated list of names (signals.filters)
)


class Cell(NamedTuple):
    """Where a signal row sits, as far as cached answers are concerned."""

    pair: str
    status: str
    outcome: str | None
    timeframe: str
    # None for a group of the stats rollup, which has no strategy column: answers
    # filtered by strategy are computed from the rows, never from the rollup.
    strategy: str | None


CELL_FIELDS = Cell._fields  # the columns to read a row's cell from


def pair_version(pair: str) -> str:
    return f"{SIGNALS_NAMESPACE}:pair:{pair}"


def cell_version(pair: str, column: str, value: str) -> str:
    return f"{SIGNALS_NAMESPACE}:pair:{pair}:{column}:{value}"


def signal_version(signal_id: int) -> str:
    return f"{SIGNALS_NAMESPACE}:id:{signal_id}"


def _cell_filter(query: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """The first cell column the query filters by, with its values; None when
    it filters by none (or by a value the filter refuses: a 400)."""
    for column, accepted in CELL_COLUMNS:
        value = query.get(column, "")
        if not value:
            continue  # django-filter: an empty value is no filter
        if accepted is None:  # as StrategyListField cleans it; else a 400
            names = [name.strip() for name in value.strip().split(",")]
            if value.strip() and all(STRATEGY_NAME.match(name) for name in names):
                return column, sorted(set(names))
            return None
        return (column, [value]) if value in accepted else None
    return None


def answer_versions(path: str, query: Mapping[str, str]) -> tuple[str, ...]:
    """The names a signal answer at `path` with `query` depends on. A `pair`
    value the filter would refuse gets a 400, which is never cached."""
    detail = DETAIL_PATH.match(path)
    if detail:
        return (signal_version(int(detail[1])),)
    pairs = set(pair_list(query.get("pair", "")))
    if pairs_invalid(pairs):
        return (SIGNALS_NAMESPACE,)  # no filter, or a 400: no version per junk value
    cells = _cell_filter(query)
    if cells is None:
        return tuple(pair_version(pair) for pair in sorted(pairs))
    column, values = cells
    return tuple(
        cell_version(pair, column, value) for pair in sorted(pairs) for value in values
    )


def cell_versions(cell: Cell) -> list[str]:
    """The names a row in `cell` is part of: its pair's and each of its cells'."""
    names = [pair_version(cell.pair)]
    for column, _ in CELL_COLUMNS:
        value = getattr(cell, column)
        if value is not None:
            names.append(cell_version(cell.pair, column, value))
    return names


def signals_changed(*, cells: Iterable[Cell], ids: Iterable[int] = ()) -> None:
    """Invalidate, on commit of the current transaction, the answers that may
    contain the written rows: `cells` are where they were before the write and
    where they are after it (a new row: after; a deleted one: before), `ids` the
    signals whose details changed or went."""
    names = {SIGNALS_NAMESPACE}
    for cell in set(cells):
        names.update(cell_versions(cell))
    names.update(signal_version(signal_id) for signal_id in set(ids))
    transaction.on_commit(partial(cache_bump, *sorted(names)))


def cell_of(signal: object) -> Cell:
    """A model instance's cell, as it is in memory (choices as plain text)."""
    values = (getattr(signal, name) for name in CELL_FIELDS)
    return Cell(*(None if value is None else str(value) for value in values))
