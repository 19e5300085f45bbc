from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "journal"
    verbose_name = "Trade journal"

    def ready(self) -> None:
        from api.schema import register_examples

        from . import receivers  # noqa: F401 (connects them)
        from .schema_examples import EXAMPLES

        register_examples(EXAMPLES)
