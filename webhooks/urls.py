from rest_framework.routers import SimpleRouter

from .views import WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")
urlpatterns = router.urls
