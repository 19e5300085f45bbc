from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from api.schema import register_examples

        from .schema_examples import EXAMPLES

        register_examples(EXAMPLES)
