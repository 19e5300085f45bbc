from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "signals"
    verbose_name = "Trading signals"

    def ready(self) -> None:
        from api.caching import register_public_prefix
        from api.schema import register_examples, register_public_operations

        from .cache_versions import SIGNALS_NAMESPACE, answer_versions
        from .schema_examples import EXAMPLES

        register_examples(EXAMPLES)
        register_public_operations(("get", "/api/signals/"))

        # Every view under it takes the default rate limits (api/tests/test_caching.py).
        register_public_prefix("/api/signals/", SIGNALS_NAMESPACE, answer_versions)
