from rest_framework.routers import DefaultRouter

from .views import AccountViewSet, ImportViewSet, JournalEntryViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("journal/accounts", AccountViewSet, basename="journal-account")
router.register("journal/import", ImportViewSet, basename="journal-import")
router.register("journal", JournalEntryViewSet, basename="journal-entry")

urlpatterns = router.urls
