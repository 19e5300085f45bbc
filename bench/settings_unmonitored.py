"""The production settings without the monitoring layer, for bench/operations.py's
"what does monitoring cost" row only: no TimingMiddleware (X-Response-Time, per-route
histograms, slow log), no django-prometheus request middlewares, and plain database
and cache backends instead of django-prometheus' instrumented ones."""

from alphaforge.settings import *  # noqa: F403
from alphaforge.settings import CACHES, DATABASES, MIDDLEWARE

MIDDLEWARE = [
    m
    for m in MIDDLEWARE
    if m != "monitoring.middleware.TimingMiddleware"
    and not m.startswith("django_prometheus.")
]
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
CACHES["default"]["BACKEND"] = "django_redis.cache.RedisCache"
