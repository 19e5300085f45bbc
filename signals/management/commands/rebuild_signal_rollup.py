from typing import Any

from django.core.management.base import BaseCommand

from signals.services import signals_rollup_rebuild


class Command(BaseCommand):
    help = (
        "Recount the stats rollup from every signal, in one transaction. The write "
        "services keep it; run this after signals were written around them (raw SQL "
        "loads, restores)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = signals_rollup_rebuild()
        self.stdout.write(f"rollup rebuilt: {rows} groups")
