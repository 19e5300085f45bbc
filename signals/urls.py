from django.urls import path
from rest_framework.routers import DefaultRouter

from .backtest.views import BacktestViewSet
from .views import SignalViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("signals", SignalViewSet, basename="signal")
router.register("backtests", BacktestViewSet, basename="backtest")

urlpatterns = [
    *router.urls,
    # Older clients call the generator here (no trailing slash, as they do).
    path(
        "signals/enhanced/generate",
        SignalViewSet.as_view({"post": "generate"}),
        name="signal-generate-enhanced",
    ),
]
