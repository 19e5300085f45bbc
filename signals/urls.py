from django.urls import path
from rest_framework.routers import DefaultRouter

from .backtest.views import BacktestViewSet
from .strategy_views import StrategyDetailView, StrategyListView
from .views import SignalViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("signals", SignalViewSet, basename="signal")
router.register("backtests", BacktestViewSet, basename="backtest")

urlpatterns = [
    *router.urls,
    path("strategies/", StrategyListView.as_view(), name="strategy-list"),
    path(
        "strategies/<str:name>/", StrategyDetailView.as_view(), name="strategy-detail"
    ),
    # Older clients call the generator here (no trailing slash, as they do).
    path(
        "signals/enhanced/generate",
        SignalViewSet.as_view({"post": "generate"}),
        name="signal-generate-enhanced",
    ),
]
