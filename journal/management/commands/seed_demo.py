from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from journal.models import JournalEntry
from journal.services import entries_bulk_create
from signals.demo import demo_market_seed
from signals.models import Signal

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # demo data only: printed in the README
SETUPS = ("breakout", "pullback", "trend")


class Command(BaseCommand):
    help = (
        "Demo data for the quick start: synthetic candles (source=synthetic) for six "
        "pairs, signals generated and resolved from them, and a demo user "
        f"({DEMO_USERNAME} / {DEMO_PASSWORD}) with a journal of those trades. "
        "Deterministic and idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--candles",
            type=int,
            default=1500,
            help="hourly candles per pair (at least 600; default 1500)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already holds signals",
        )

    def handle(
        self, *args: Any, if_empty: bool = False, candles: int = 1500, **options: Any
    ) -> None:
        if candles < 600:
            raise CommandError("--candles must be at least 600")
        if if_empty and Signal.objects.exists():
            self.stdout.write("Signals exist already: demo data not seeded.")
            return
        self.stdout.write("Seeding synthetic candles, signals and outcomes …")
        stored, signals, report = demo_market_seed(candles=candles)
        self.stdout.write(
            f"{stored} synthetic candles, {signals} new signals, "
            f"{report.resolved} outcomes resolved"
        )
        user = self._demo_user()
        entries = self._journal(user.pk)
        self.stdout.write(
            f"Demo user {DEMO_USERNAME!r} (password {DEMO_PASSWORD!r}) has "
            f"{entries} new journal entries."
        )

    def _demo_user(self) -> Any:
        user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def _journal(self, owner_id: int) -> int:
        """One entry per resolved demo signal, plus two open trades."""
        taken = set(
            JournalEntry.objects.filter(owner_id=owner_id).values_list(
                "signal_id", flat=True
            )
        )
        signals = [
            s
            for s in Signal.objects.exclude(closed_at=None).order_by("timestamp")
            if s.pk not in taken
        ]
        items = [
            {
                "signal": signal,
                "pair": signal.pair,
                "direction": signal.direction,
                "entry_price": signal.entry_price,
                "stop_loss": signal.stop_loss,
                "take_profit": signal.take_profit,
                "exit_price": signal.exit_price,
                "quantity": Decimal("0.1")
                if signal.pair == "BTC/USDT"
                else Decimal(10000),
                "opened_at": signal.timestamp,
                "closed_at": signal.closed_at,
                "setup": SETUPS[n % len(SETUPS)],
                "notes": f"Followed signal #{signal.pk}.",
            }
            for n, signal in enumerate(signals)
        ]
        if not taken:
            for signal in Signal.objects.order_by("-timestamp")[:2]:
                items.append(
                    {
                        "pair": signal.pair,
                        "direction": signal.direction,
                        "entry_price": signal.entry_price,
                        "stop_loss": signal.stop_loss,
                        "quantity": Decimal(5000),
                        "opened_at": signal.timestamp,
                        "setup": "trend",
                        "notes": "Still open.",
                    }
                )
        with transaction.atomic():
            return len(entries_bulk_create(owner_id=owner_id, items=items))
