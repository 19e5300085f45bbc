from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "signals"
    verbose_name = "Trading signals"

    def ready(self) -> None:
        from api.caching import register_public_prefix
        from api.schema import (
            register_examples,
            register_public_operations,
            register_tag,
        )

        from .cache_versions import SIGNALS_NAMESPACE, answer_versions
        from .schema_examples import EXAMPLES

        register_examples(EXAMPLES)
        register_tag(
            "/api/signals/",
            "signals",
            "Trading signals: lists, detail, feed, stats, writes and the generator.",
        )
        register_tag(
            "/api/backtests/",
            "backtests",
            "Walk-forward backtests of the generator on stored candles (staff).",
        )
        register_tag(
            "/api/strategies/",
            "strategies",
            "The registered strategies, each with its live and walk-forward record "
            "and its latest calibration.",
        )
        register_public_operations(("get", "/api/signals/"))
        register_public_operations(("get", "/api/strategies/"))

        # Every view under it takes the default rate limits (api/tests/test_caching.py).
        register_public_prefix("/api/signals/", SIGNALS_NAMESPACE, answer_versions)
