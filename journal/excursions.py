"""Excursions of closed journal trades: how far price went against the trade (MAE)
and in its favour (MFE) while it was open, from the stored candles of its pair (the
candles that resolve signals).

The candles of a trade are those whose interval meets [opened_at, closed_at]: from
the one the trade opened in to the one it closed in. A trade's candles must cover it:
the first one opens at or before opened_at and the last one holds closed_at
(gaps between them, a closed market, are allowed); otherwise its excursions are
null. The finest timeframe stored for the pair that covers the trade is used. Whole
candles are read, so the first and last may reach prices from before the entry or
after the exit: the usual approximation without ticks. Each excursion is at least
what the trade's own move was (MFE ≥ pips, MAE ≥ −pips), so an entry or exit
price outside the candles (a broker's feed is not ours) never gives an excursion
smaller than the trade's own move.

Both are distances from the entry, ≥ 0, as for signals: in pips, and in R over the
risk |entry − stop| (null without a stop). Exit efficiency is pips ÷ MFE: the
share of the best move the exit kept.

One query for the timeframes stored and one per timeframe tried, whatever the number
of entries: the candles' extremes come from correlated subqueries over the candle
index (pair, timeframe, timestamp), computed by the database.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, OuterRef, QuerySet, Subquery

from core.vocabulary import TIMEFRAME_SECONDS
from market.models import Candle
from market.pricing import pip_size

from .cache_versions import journal_bump_after_commit
from .models import JournalEntry
from .trade import PIPS_PLACES

EXTREMES = {"hi": Max("high"), "lo": Min("low"), "first": Min("timestamp"),
            "last": Max("timestamp")}  # fmt: skip
FILL_BATCH = 2000
STEP = Decimal(1).scaleb(-PIPS_PLACES)


@dataclass(frozen=True)
class Excursion:
    mae_pips: Decimal  # ≥ 0: the furthest price went against the trade
    mfe_pips: Decimal  # ≥ 0: the furthest it went for it


def excursion(
    *,
    direction: str,
    entry_price: Decimal,
    pips: Decimal,
    high: Decimal,
    low: Decimal,
    pip: Decimal,
) -> Excursion:
    """MAE and MFE in pips of a trade whose candles reached `high` and `low`, and
    that captured `pips`."""
    if direction == "buy":
        best, worst = high - entry_price, entry_price - low
    else:
        best, worst = entry_price - low, high - entry_price
    mfe = max(best / pip, pips, Decimal(0))
    mae = max(worst / pip, -pips, Decimal(0))
    return Excursion(mae_pips=mae.quantize(STEP), mfe_pips=mfe.quantize(STEP))


def in_r(pips: Decimal | None, entry: Any) -> float | None:
    """Pips over the entry's risk in pips, |entry − stop| (None without a stop)."""
    if pips is None or entry.stop_loss is None or entry.stop_loss == entry.entry_price:
        return None
    pip = pip_size(entry.pair, settings.PIP_SIZES)
    return float(pips / (abs(entry.entry_price - entry.stop_loss) / pip))


def _extremes(entries: QuerySet, timeframe: str) -> list[dict[str, Any]]:
    """Each entry's candle extremes on `timeframe`, by correlated subqueries."""
    reach = timedelta(seconds=TIMEFRAME_SECONDS[timeframe])
    candles = Candle.objects.filter(
        pair=OuterRef("pair"),
        timeframe=timeframe,
        timestamp__gt=OuterRef("opened_at") - reach,
        timestamp__lte=OuterRef("closed_at"),
    ).order_by()
    annotations = {
        name: Subquery(candles.values("pair").annotate(v=agg).values("v")[:1])
        for name, agg in EXTREMES.items()
    }
    return list(
        entries.annotate(**annotations).values(
            "id",
            "pair",
            "direction",
            "entry_price",
            "pips",
            "opened_at",
            "closed_at",
            *EXTREMES,
        )  # fmt: skip
    )


def _covers(row: dict[str, Any], timeframe: str) -> bool:
    if row["hi"] is None:
        return False
    reach = timedelta(seconds=TIMEFRAME_SECONDS[timeframe])
    return row["first"] <= row["opened_at"] and row["last"] + reach > row["closed_at"]


def excursions_compute(entries: QuerySet) -> dict[int, Excursion]:
    """The excursions of the closed entries among `entries` that stored candles
    cover, by id (an entry left out is not covered). One query for the
    timeframes stored for their pairs, and one per timeframe tried."""
    closed = entries.filter(closed_at__isnull=False, pips__isnull=False).order_by()
    stored = (
        Candle.objects.filter(pair__in=closed.values("pair"))
        .order_by()
        .values_list("timeframe", flat=True)
        .distinct()
    )
    found: dict[int, Excursion] = {}
    pending = closed
    for timeframe in sorted(set(stored), key=TIMEFRAME_SECONDS.__getitem__):
        rows = _extremes(pending, timeframe)
        covered = [row for row in rows if _covers(row, timeframe)]
        for row in covered:
            found[row["id"]] = excursion(
                direction=row["direction"],
                entry_price=row["entry_price"],
                pips=row["pips"],
                high=row["hi"],
                low=row["lo"],
                pip=pip_size(row["pair"], settings.PIP_SIZES),
            )
        if len(covered) == len(rows):
            break  # every entry left is covered
        pending = closed.exclude(id__in=list(found))
    return found


def excursions_fill(
    *, ids: Iterable[int], new: bool = False
) -> dict[int, Excursion | None]:
    """Compute and store the excursions of these entries (open ones get null), in
    batches, in the caller's transaction (journal.services.entries_excursions_fill
    invalidates the owners' answers); returns them by id. Only rows whose
    excursions change are written (`new`: entries just created, which have none
    to clear): an import of entries no candles cover writes nothing."""
    ids = sorted(set(ids))
    stored: dict[int, Excursion | None] = {}
    for start in range(0, len(ids), FILL_BATCH):
        batch = ids[start : start + FILL_BATCH]
        entries = JournalEntry.objects.filter(id__in=batch)
        found = excursions_compute(entries)
        stored.update((pk, found.get(pk)) for pk in batch)
        rows = [
            JournalEntry(id=pk, mae_pips=value.mae_pips, mfe_pips=value.mfe_pips)
            for pk, value in found.items()
            if value is not None
        ]
        if rows:
            JournalEntry.objects.bulk_update(rows, ["mae_pips", "mfe_pips"])
        if not new:
            gone = entries.filter(mfe_pips__isnull=False).exclude(
                id__in=[row.id for row in rows]
            )
            gone.update(mae_pips=None, mfe_pips=None)
    return stored


def entries_excursions_fill(*, ids: Iterable[int]) -> int:
    """Compute and store the excursions of these entries in one transaction;
    returns how many got excursions. Their owners' answers are invalidated."""
    ids = list(ids)
    with transaction.atomic():
        found = excursions_fill(ids=ids)
        owners = JournalEntry.objects.filter(id__in=ids).values_list("owner_id")
        journal_bump_after_commit({owner for (owner,) in owners.distinct()})
    return sum(value is not None for value in found.values())
