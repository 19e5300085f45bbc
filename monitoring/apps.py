from django.apps import AppConfig
from django.conf import settings

TIMING_MIDDLEWARE = "monitoring.middleware.TimingMiddleware"


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        """Time the response cache's fast-path hits as the middleware times the
        rest, when it is on (nobody imports monitoring: it installs its hooks)."""
        from api.caching import install_hit_timer

        from .middleware import request_timed

        if TIMING_MIDDLEWARE in settings.MIDDLEWARE:
            install_hit_timer(request_timed)
