from rest_framework.routers import DefaultRouter

from .views import SignalViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("signals", SignalViewSet, basename="signal")

urlpatterns = router.urls
