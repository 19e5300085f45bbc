from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from journal.excursions import entries_excursions_fill
from journal.models import JournalEntry
from journal.services import entries_recompute, stats_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the derived fields (pnl, pips, r_multiple, outcome) of stored "
        "journal entries, in batches. Safe to interrupt and to rerun."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="Only this user's entries (username or id).")
        parser.add_argument(
            "--stats-only",
            action="store_true",
            help="Only rebuild the maintained statistics (running columns, rollup), "
            "after a load that bypassed the services.",
        )
        parser.add_argument(
            "--excursions",
            action="store_true",
            help="Only (re)compute the closed entries' excursions (mae_pips, "
            "mfe_pips) from the stored candles: after loading candles, or to "
            "backfill entries written before.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Entries per transaction (default 1000).",
        )

    def handle(
        self,
        *args: Any,
        user: str | None,
        batch_size: int,
        stats_only: bool,
        excursions: bool,
        **options: Any,
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be a positive integer")
        owner_id = self._owner_id(user) if user is not None else None
        if stats_only:
            stats_rebuild(owner_id=owner_id)
            self.stdout.write(self.style.SUCCESS("Statistics rebuilt."))
            return
        entries = JournalEntry.objects.all()
        if owner_id is not None:
            entries = entries.filter(owner_id=owner_id)
        if excursions:
            self._excursions(entries, batch_size)
            return
        total = entries.count()
        self.stdout.write(f"Recomputing {total} journal entries…")
        checked = changed = 0
        for progress in entries_recompute(owner_id=owner_id, batch_size=batch_size):
            checked += progress.checked
            changed += progress.changed
            self.stdout.write(
                f"  {checked}/{total} checked, {changed} changed"
                f" (up to id {progress.last_id})"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Done: {checked} checked, {changed} changed.")
        )

    def _excursions(self, entries: Any, batch_size: int) -> None:
        ids = list(
            entries.filter(closed_at__isnull=False)
            .order_by("id")
            .values_list("id", flat=True)
        )
        self.stdout.write(f"Computing the excursions of {len(ids)} closed entries…")
        filled = 0
        for start in range(0, len(ids), batch_size):
            filled += entries_excursions_fill(ids=ids[start : start + batch_size])
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {filled} with excursions, {len(ids) - filled} not covered "
                "by stored candles."
            )
        )

    def _owner_id(self, user: str) -> int:
        users = get_user_model().objects
        found = users.filter(username=user).values_list("id", flat=True).first()
        if found is None and user.isdigit():
            found = users.filter(id=int(user)).values_list("id", flat=True).first()
        if found is None:
            raise CommandError(f"No user {user!r}.")
        return found
