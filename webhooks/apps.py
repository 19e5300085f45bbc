from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from api.schema import register_examples, register_tag
        from events.commits import register_commit_hook

        from .schema_examples import EXAMPLES
        from .wake import dispatcher_wake

        register_examples(EXAMPLES)
        register_tag(
            "/api/webhooks/",
            "webhooks",
            "Signed webhook subscriptions and their deliveries.",
        )
        register_commit_hook(dispatcher_wake)
