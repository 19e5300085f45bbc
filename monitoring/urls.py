from django.urls import path

from . import views

urlpatterns = [
    path("api/health", views.health, name="health"),
    path("api/ready", views.ready, name="ready"),
    path("api/metrics", views.metrics_json, name="metrics-json"),
    path("metrics", views.metrics_prometheus, name="metrics-prometheus"),
]
