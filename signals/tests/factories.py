from datetime import timedelta
from decimal import Decimal

import factory

from market.tests.factories import START
from signals.models import Signal
from signals.pricing import risk_reward


class SignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signal

    pair = "EUR/USD"
    timeframe = "1h"
    direction = "buy"
    entry_price = Decimal("1.10000")
    stop_loss = Decimal("1.09500")
    take_profit = Decimal("1.11000")
    confidence = Decimal("65.50")
    status = "active"
    outcome = "pending"
    strategy = "manual"
    timestamp = factory.Sequence(lambda n: START + timedelta(hours=n))
    risk_reward = factory.LazyAttribute(
        lambda s: risk_reward(s.entry_price, s.stop_loss, s.take_profit)
    )


def signal_payload(**overrides: object) -> dict:
    """A valid create body."""
    body = {
        "pair": "EUR/USD",
        "timeframe": "1h",
        "direction": "buy",
        "entry_price": 1.1,
        "stop_loss": 1.095,
        "take_profit": 1.11,
        "confidence": 72.5,
        "timestamp": "2026-01-05T14:00:00Z",
        "strategy": "manual",
    }
    body.update(overrides)
    return body
