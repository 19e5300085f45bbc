import pytest

from market.providers import MarketDataError, provider_for


def test_provider_for_an_unknown_name_raises() -> None:
    with pytest.raises(MarketDataError, match="nope"):
        provider_for("nope")
