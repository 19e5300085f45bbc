from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.vocabulary import pair_validator
from signals.outcomes import BackfillReport, outcomes_backfill
from signals.tasks import backfill


class Command(BaseCommand):
    help = (
        "Resolve active signals against the candles after the signal's candle "
        "(target, stop or expiry after SIGNAL_EXPIRY_BARS). Writes in committed "
        "batches: safe to interrupt and rerun; a second run changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pair", help="only this pair, e.g. EUR/USD")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report what would change, write nothing",
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--async",
            dest="enqueue",
            action="store_true",
            help="enqueue the backfill for the workers instead of running here",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        pair = options["pair"]
        if pair:
            try:
                pair_validator(pair)
            except Exception as error:
                raise CommandError(
                    f"--pair: {pair!r} is not a pair like EUR/USD"
                ) from error
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be a positive integer")
        if options["enqueue"]:
            if options["dry_run"]:
                raise CommandError("--async and --dry-run do not go together")
            backfill.delay(pair)
            self.stdout.write("enqueued the backfill for the workers")
            return

        def progress(report: BackfillReport) -> None:
            self.stdout.write(
                f"… examined {report.examined}, resolved {report.resolved}"
            )

        report = outcomes_backfill(
            pair=pair,
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            progress=progress,
        )
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.by_outcome.items()))
        verb = "would resolve" if options["dry_run"] else "resolved"
        self.stdout.write(
            f"{report.examined} active signals examined: {verb} {report.resolved} "
            f"({outcomes or 'none'}), {report.still_active} still active"
        )
