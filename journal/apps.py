from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "journal"
    verbose_name = "Trade journal"

    def ready(self) -> None:
        from api.schema import register_examples, register_tag

        from . import receivers  # noqa: F401 (connects them)
        from .schema_examples import EXAMPLES

        register_examples(EXAMPLES)
        register_tag(
            "/api/journal/",
            "journal",
            "Each user's private trade journal and its statistics.",
        )
