from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from events.services import events_prune


class Command(BaseCommand):
    help = "Delete events older than EVENT_RETENTION_DAYS (or --days) days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        if days is not None and days < 0:
            self.stderr.write("--days must be 0 or more")
            raise SystemExit(2)
        deleted = events_prune(days=days)
        self.stdout.write(f"Deleted {deleted} events.")
