"""Writes to the journal: the API, bulk import, the admin and the recompute command.

Every write derives pnl, pips, r_multiple and outcome with `journal.trade.derive`,
brings the owner's maintained statistics up to date in its transaction
(`journal.rollup`: it locks the owner first) and invalidates the owner's cached
journal answers once it commits.
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.batch_sql import bulk_batch_size
from core.validators import decimal_fits
from market.pricing import pip_size
from signals.models import Signal

from .cache_versions import journal_bump_after_commit
from .excursions import excursions_fill
from .models import Account, JournalEntry, Tag
from .rollup import (
    Touched,
    rollup_lock,
    rollup_rebuild,
    rollup_rebuild_all,
    rollup_refresh,
)
from .trade import derive, gross_from_net

DERIVED_FIELDS = ("gross_pnl", "pnl", "pips", "r_multiple", "outcome", "pnl_manual")
logger = logging.getLogger(__name__)


# An entry created with a signal takes these from it unless the client gives them.
FROM_SIGNAL = ("pair", "direction", "entry_price", "stop_loss", "take_profit")


def entry_values_from_signal(data: dict[str, Any]) -> dict[str, Any]:
    """A new entry's fields: the signal's levels where the client gave none."""
    signal = data.get("signal")
    if signal is None:
        return data
    return {name: getattr(signal, name) for name in FROM_SIGNAL} | data


def _signal_ids(items: list[Any]) -> set[int]:
    """The signal ids a bulk body mentions, to look them up in one query."""
    ids = set()
    for item in items:
        value = item.get("signal") if isinstance(item, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
        elif isinstance(value, str) and value.isdigit():
            ids.add(int(value))
    # Ids past 64 bits cannot exist (and overflow the query): they stay unknown.
    return {pk for pk in ids if 0 < pk < 2**63}


def entry_signals_find(*, items: list[Any]) -> dict[int, Signal]:
    """The signals the items of a bulk body name, by id, in one query, for the
    serializer to copy from (context["signals"]); an id not found is left out, so
    its item fails as an unknown signal."""
    return Signal.objects.in_bulk(list(_signal_ids(items)))


DEFAULT_ACCOUNT_NAME = "Default"


def account_default(*, owner_id: int) -> Account:
    """The owner's default account: their oldest, created on demand.

    Locks the owner's user row first, so two first writes create one account.
    """
    with transaction.atomic(savepoint=False):
        users = get_user_model().objects.select_for_update()
        list(users.filter(pk=owner_id).values_list("pk"))
        account = Account.objects.for_owner(owner_id).order_by("id").first()
        if account is None:
            account = Account.objects.create(
                owner_id=owner_id, name=DEFAULT_ACCOUNT_NAME
            )
    return account


def account_create(*, owner_id: int, data: dict[str, Any]) -> Account:
    """Create a validated account for its owner."""
    return Account.objects.create(owner_id=owner_id, **data)


def account_update(*, account: Account, data: dict[str, Any]) -> Account:
    """Apply validated changes; the owner's stats depend on its time zone."""
    with transaction.atomic():
        for name, value in data.items():
            setattr(account, name, value)
        account.save()
        journal_bump_after_commit([account.owner_id])
    return account


class AccountInUse(Exception):
    """The account still has entries: they go first."""


def account_delete(*, account: Account) -> None:
    """Delete an account that has no entries (else AccountInUse)."""
    with transaction.atomic():
        if account.entries.exists():
            raise AccountInUse
        account.delete()


def _untagged(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of an entry's row: its tags are links, written apart."""
    return {name: value for name, value in data.items() if name != "tags"}


def _assign(entry: JournalEntry, data: dict[str, Any]) -> JournalEntry:
    """Set the given fields; a pnl given is kept from now on, a null one computed.

    What is kept is the gross pnl: a gross_pnl given as it is, a (net) pnl as the
    gross it means under the entry's costs after this write, so later changes of
    fees or swap move the net pnl.
    """
    for name, value in data.items():
        setattr(entry, name, value)
    given = data.get("gross_pnl", data.get("pnl"))
    if "gross_pnl" in data or "pnl" in data:
        entry.pnl_manual = given is not None
    if "gross_pnl" not in data and data.get("pnl") is not None:
        entry.gross_pnl = gross_from_net(data["pnl"], entry.fees, entry.swap)
    return entry


def _tags_link(
    *, owner_id: int, tagged: list[tuple[JournalEntry, list[str]]], replace: bool
) -> None:
    """Give each entry exactly (replace) or also these tags of its owner, creating
    the owner's missing tags: a constant number of queries for any count."""
    if not tagged:
        return
    through = JournalEntry.tags.through
    if replace:
        through.objects.filter(journalentry_id__in=[e.pk for e, _ in tagged]).delete()
    names = sorted({name for _, entry_names in tagged for name in entry_names})
    if not names:
        return
    tags = [Tag(owner_id=owner_id, name=name) for name in names]
    Tag.objects.bulk_create(tags, ignore_conflicts=True)
    ids = dict(
        Tag.objects.filter(owner_id=owner_id, name__in=names).values_list("name", "id")
    )
    links = [
        through(journalentry_id=entry.pk, tag_id=ids[name])
        for entry, entry_names in tagged
        for name in entry_names
    ]
    batch_size = bulk_batch_size(2)
    through.objects.bulk_create(links, batch_size=batch_size, ignore_conflicts=True)


def entry_derive(entry: JournalEntry) -> JournalEntry:
    """Fill pnl, pips, r_multiple and outcome from the entry's other fields."""
    derived = derive(
        direction=entry.direction,
        entry_price=entry.entry_price,
        exit_price=entry.exit_price,
        stop_loss=entry.stop_loss,
        quantity=entry.quantity,
        gross_pnl=entry.gross_pnl if entry.pnl_manual else None,
        pip=pip_size(entry.pair, settings.PIP_SIZES),
        fees=entry.fees,
        swap=entry.swap,
    )
    entry.gross_pnl, entry.pnl, entry.pips = (
        derived.gross_pnl,
        derived.pnl,
        derived.pips,
    )
    entry.r_multiple, entry.outcome = derived.r_multiple, derived.outcome
    entry.pnl_manual = entry.pnl_manual and entry.exit_price is not None
    if entry.closed_at is None:  # closed entries get theirs from rollup_refresh
        entry.equity = entry.peak = entry.drawdown = entry.streak = None
    return entry


def _touched(entry: JournalEntry) -> Touched:
    return (entry.pair, entry.closed_at, entry.pk)


def _excursions_after(entries: list[JournalEntry], *, new: bool = False) -> None:
    """Compute the excursions of written entries (`new`: just created), on the
    instances too. An import runs in a task already, so it is done there."""
    if not entries:
        return
    found = excursions_fill(ids=[entry.pk for entry in entries], new=new)
    for entry in entries:
        value = found.get(entry.pk)
        entry.mae_pips = value.mae_pips if value else None
        entry.mfe_pips = value.mfe_pips if value else None


def entry_create(*, owner_id: int, data: dict[str, Any]) -> JournalEntry:
    """Create one validated entry for its owner."""
    return entries_bulk_create(owner_id=owner_id, items=[data])[0]


def entries_bulk_create(
    *, owner_id: int, items: Iterable[dict[str, Any]]
) -> list[JournalEntry]:
    """Insert validated entries for one owner, all or nothing, in the input order;
    an entry given no account goes to the owner's default account."""
    items = list(items)
    tag_lists = [item.get("tags") for item in items]
    entries = [
        entry_derive(_assign(JournalEntry(owner_id=owner_id), _untagged(item)))
        for item in items
    ]
    batch_size = bulk_batch_size(len(JournalEntry._meta.concrete_fields))
    with transaction.atomic():
        rollup_lock(owner_id)
        if any(entry.account_id is None for entry in entries):
            default = account_default(owner_id=owner_id)
            for entry in entries:
                if entry.account_id is None:
                    entry.account = default
        created = JournalEntry.objects.bulk_create(entries, batch_size=batch_size)
        tagged = [
            (entry, names)
            for entry, names in zip(created, tag_lists, strict=True)
            if names
        ]
        _tags_link(owner_id=owner_id, tagged=tagged, replace=False)
        rollup_refresh(owner_id=owner_id, touched=map(_touched, created))
        _excursions_after([e for e in created if e.closed_at], new=True)
        journal_bump_after_commit([owner_id])
    return created


def entry_update(*, entry: JournalEntry, data: dict[str, Any]) -> JournalEntry:
    """Apply validated changes to an entry under a row lock; returns the saved row."""
    with transaction.atomic():
        rollup_lock(entry.owner_id)  # the owner before the row, as every writer
        # The lock serialises concurrent changes of one entry: none is lost.
        locked = JournalEntry.objects.select_for_update().get(pk=entry.pk)
        before = _touched(locked)
        entry_derive(_assign(locked, _untagged(data)))
        locked.save()
        if "tags" in data:
            tagged = [(locked, data["tags"])]
            _tags_link(owner_id=locked.owner_id, tagged=tagged, replace=True)
        rollup_refresh(owner_id=locked.owner_id, touched=[before, _touched(locked)])
        _excursions_after([locked])
        journal_bump_after_commit([locked.owner_id])
    return locked


def entry_save(*, entry: JournalEntry, changed: Iterable[str]) -> JournalEntry:
    """Save an entry edited as a whole (the admin's form); `changed` names the edits."""
    stored = JournalEntry.objects.filter(pk=entry.pk) if entry.pk else None
    with transaction.atomic():
        before = (
            stored.values_list("owner_id", "pair", "closed_at").first()
            if (stored is not None)
            else None
        )
        owners = sorted({entry.owner_id} | ({before[0]} if before else set()))
        for owner_id in owners:
            rollup_lock(owner_id)
        if "pnl" in changed:
            entry.pnl_manual = entry.pnl is not None
            if entry.pnl is not None:
                entry.gross_pnl = gross_from_net(entry.pnl, entry.fees, entry.swap)
        account = Account.objects.filter(pk=entry.account_id).first()
        if account is None or account.owner_id != entry.owner_id:
            # the admin's form has no account: a new or moved entry takes the
            # owner's default one
            entry.account = account_default(owner_id=entry.owner_id)
        entry_derive(entry)
        entry.save()
        if before is not None:  # the admin may even move an entry to another owner
            rollup_refresh(owner_id=before[0], touched=[(*before[1:], entry.pk)])
        rollup_refresh(owner_id=entry.owner_id, touched=[_touched(entry)])
        _excursions_after([entry])
        journal_bump_after_commit(owners)
    return entry


def entries_delete(*, entries: QuerySet) -> int:
    """Delete entries (of any owners); returns how many."""
    with transaction.atomic():
        rows = list(entries.values_list("owner_id", "pair", "closed_at", "id"))
        owner_ids = sorted({row[0] for row in rows})
        for owner_id in owner_ids:
            rollup_lock(owner_id)
        deleted, _ = entries.delete()
        for owner_id in owner_ids:
            touched = [row[1:] for row in rows if row[0] == owner_id]
            rollup_refresh(owner_id=owner_id, touched=touched)
        journal_bump_after_commit(owner_ids)
    return deleted


def entry_delete(*, entry: JournalEntry) -> None:
    """Delete one entry."""
    with transaction.atomic():
        rollup_lock(entry.owner_id)
        touched = _touched(entry)
        entry.delete()
        rollup_refresh(owner_id=entry.owner_id, touched=[touched])
        journal_bump_after_commit([entry.owner_id])


def _storable(entry: JournalEntry) -> bool:
    """Whether the re-derived pips fit their column (a new, tiny PIP_SIZES override
    may push them past it): an entry whose do not is logged and left as it was."""
    field = JournalEntry._meta.get_field("pips")
    if entry.pips is None or decimal_fits(field, entry.pips):
        return True
    logger.warning("journal entry %s left as it was: its pips overflow", entry.pk)
    return False


@dataclass(frozen=True)
class RecomputeProgress:
    checked: int
    changed: int
    last_id: int


def entries_recompute(
    *, owner_id: int | None = None, batch_size: int = 1000
) -> Iterator[RecomputeProgress]:
    """Re-derive stored entries in id order, one transaction per batch.

    Yields after each committed batch, so an interrupted run keeps its work and a
    rerun redoes it harmlessly: the result only depends on the entries' own fields.
    """
    entries = JournalEntry.objects.order_by("id")
    if owner_id is not None:
        entries = entries.filter(owner_id=owner_id)
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                entries.select_for_update().filter(id__gt=last_id)[:batch_size]
            )
            if not batch:
                return
            now = timezone.now()
            changed = []
            for entry in batch:
                before = [getattr(entry, name) for name in DERIVED_FIELDS]
                entry_derive(entry)
                if not _storable(entry):
                    continue
                if [getattr(entry, name) for name in DERIVED_FIELDS] != before:
                    entry.updated_at = now
                    changed.append(entry)
            fields = [*DERIVED_FIELDS, "updated_at"]
            JournalEntry.objects.bulk_update(
                changed,
                fields,
                # a CASE branch (2 parameters) per field and row, plus the row's id
                batch_size=min(batch_size, bulk_batch_size(2 * len(fields) + 1)),
            )
            # Entries are locked before owners here (unlike the other writers): a
            # concurrent write may deadlock with it, and PostgreSQL aborts one.
            for owner_id in sorted({entry.owner_id for entry in changed}):
                rollup_lock(owner_id)
                touched = [_touched(e) for e in changed if e.owner_id == owner_id]
                rollup_refresh(owner_id=owner_id, touched=touched)
            journal_bump_after_commit(entry.owner_id for entry in changed)
        last_id = batch[-1].id
        yield RecomputeProgress(
            checked=len(batch), changed=len(changed), last_id=last_id
        )


def stats_rebuild(*, owner_id: int | None = None) -> None:
    """Recompute the maintained statistics of one owner (None: of all), after rows
    were written without these services (raw SQL, loaddata)."""
    with transaction.atomic():
        if owner_id is None:
            rollup_rebuild_all()
        else:
            rollup_rebuild(owner_id=owner_id)
        journal_bump_after_commit([owner_id] if owner_id is not None else [])
