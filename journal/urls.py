from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import AccountViewSet, ImportViewSet, JournalEntryViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("journal/accounts", AccountViewSet, basename="journal-account")
router.register("journal/import", ImportViewSet, basename="journal-import")
router.register("journal", JournalEntryViewSet, basename="journal-entry")

urlpatterns = [
    # The contract's path has no trailing slash: the file's name.
    path(
        "journal/export.csv",
        JournalEntryViewSet.as_view({"get": "export"}),
        name="journal-export",
    ),
    *router.urls,
]
