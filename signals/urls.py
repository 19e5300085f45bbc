from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import SignalViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("signals", SignalViewSet, basename="signal")

urlpatterns = [
    *router.urls,
    # Older clients call the generator here (no trailing slash, as they do).
    path(
        "signals/enhanced/generate",
        SignalViewSet.as_view({"post": "generate"}),
        name="signal-generate-enhanced",
    ),
]
