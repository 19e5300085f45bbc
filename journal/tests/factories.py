from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import factory

from journal.models import JournalEntry
from journal.rollup import rollup_refresh
from journal.services import account_default, entry_derive
from journal.trade import gross_from_net

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


class JournalEntryFactory(factory.django.DjangoModelFactory):
    """A saved entry with its derived fields filled as the services fill them.

    Give `pnl=…` for a client's pnl (kept as given); leave it out to have it computed.
    """

    class Meta:
        model = JournalEntry

    pair = "EUR/USD"
    direction = "buy"
    entry_price = Decimal("1.10000")
    stop_loss = Decimal("1.09500")
    quantity = Decimal("10000")
    opened_at = factory.Sequence(lambda n: START + timedelta(hours=n))

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> JournalEntry:
        entry = model_class(*args, **kwargs)
        if entry.account_id is None:
            entry.account = account_default(owner_id=entry.owner_id)
        entry.pnl_manual = kwargs.get("pnl") is not None
        if entry.pnl_manual:  # a net pnl given: the gross it means is kept
            entry.gross_pnl = gross_from_net(entry.pnl, entry.fees, entry.swap)
        entry_derive(entry)
        entry.save()
        # As the services do: keep the owner's maintained statistics up to date.
        touched = [(entry.pair, entry.closed_at, entry.pk)]
        rollup_refresh(owner_id=entry.owner_id, touched=touched)
        return entry


def closed(hours: float = 2, **overrides: Any) -> dict[str, Any]:
    """Factory arguments closing the trade `hours` after it opened, at exit_price."""
    opened_at = overrides.pop("opened_at", START)
    return {
        "opened_at": opened_at,
        "closed_at": opened_at + timedelta(hours=hours),
        "exit_price": Decimal("1.10500"),
        **overrides,
    }


def entry_payload(**overrides: Any) -> dict[str, Any]:
    """A valid create body for a closed buy of EUR/USD: +50 pips, 1R, pnl 50."""
    body = {
        "pair": "EUR/USD",
        "direction": "buy",
        "entry_price": 1.1,
        "stop_loss": 1.095,
        "take_profit": 1.11,
        "quantity": 10000,
        "opened_at": "2026-01-05T10:00:00Z",
        "exit_price": 1.105,
        "closed_at": "2026-01-05T12:00:00Z",
        "setup": "breakout",
        "notes": "textbook",
    }
    body.update(overrides)
    return body
