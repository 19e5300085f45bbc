from datetime import timedelta
from decimal import Decimal

import factory

from market.pricing import risk_reward
from market.tests.factories import START
from signals.models import Signal
from signals.rollup import rollup_rows_add


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

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> Signal:
        """Counted in the stats rollup, as signals_insert counts what it inserts."""
        signal = super()._create(model_class, *args, **kwargs)
        rollup_rows_add(ids=[signal.pk])
        return signal


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
