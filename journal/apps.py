from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "journal"
    verbose_name = "Trade journal"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects them)
