from django.apps import AppConfig
from django.conf import settings

TIMING_MIDDLEWARE = "monitoring.middleware.TimingMiddleware"
PROMETHEUS_MIDDLEWARE = "django_prometheus.middleware.PrometheusAfterMiddleware"


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        """Time and count the response cache's fast-path hits as the middlewares
        time and count the rest, when they are on (nobody imports monitoring: it
        installs its hooks)."""
        from api.fast_path import install_hit_timer
        from api.schema import (
            register_examples,
            register_public_operations,
            register_tag,
        )

        from .middleware import fast_path_recorder
        from .schema_examples import EXAMPLES

        register_examples(EXAMPLES)
        register_tag("/api/health", "monitoring", "Liveness, readiness and metrics.")
        register_tag("/api/ready", "monitoring", "")
        register_tag("/api/metrics", "monitoring", "")
        register_tag("/metrics", "monitoring", "")
        register_public_operations(("get", "/api/health"), ("get", "/api/ready"))

        timing = TIMING_MIDDLEWARE in settings.MIDDLEWARE
        counting = PROMETHEUS_MIDDLEWARE in settings.MIDDLEWARE
        if timing or counting:
            install_hit_timer(fast_path_recorder(timing=timing, counting=counting))
