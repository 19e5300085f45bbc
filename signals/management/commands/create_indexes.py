from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from signals.indexes import declared_indexes, index_build, indexes_missing


class Command(BaseCommand):
    help = (
        "Make sure every index the models declare exists. On PostgreSQL missing ones "
        "are built with CREATE INDEX CONCURRENTLY, so writes go on meanwhile. "
        "Idempotent: safe to interrupt and rerun (an interrupted concurrent build "
        "leaves an invalid index, which the next run rebuilds)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what is missing, build nothing"
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        total = sum(1 for _ in declared_indexes())
        missing = indexes_missing()
        if not missing:
            self.stdout.write(f"All {total} declared indexes exist.")
            return
        for position, declared in enumerate(missing, start=1):
            if dry_run:
                self.stdout.write(f"missing: {declared.label}")
                continue
            self.stdout.write(
                f"[{position}/{len(missing)}] building {declared.label} …"
            )
            index_build(declared)
            self.stdout.write(f"[{position}/{len(missing)}] built {declared.label}")
        verb = "would build" if dry_run else "built"
        self.stdout.write(f"{verb} {len(missing)} of {total} declared indexes.")
