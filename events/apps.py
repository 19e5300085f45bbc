from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event log"

    def ready(self) -> None:
        from api.schema import register_examples, register_tag

        from .schema_examples import EXAMPLES

        register_examples(EXAMPLES)
        register_tag(
            "/api/events/", "events", "The durable event log behind the live channels."
        )
