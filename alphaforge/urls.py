from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.auth import TokenView, admin_login

urlpatterns = [
    path("admin/login/", admin_login),  # before the admin's own: login limits
    path("admin/", admin.site.urls),
    path("api/auth/token/", TokenView.as_view(), name="auth-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("signals.urls")),
    path("api/", include("journal.urls")),
    path("api/", include("events.urls")),
    path("api/", include("webhooks.urls")),
    path("", include("monitoring.urls")),
]

handler400 = "api.errors.bad_request"
handler403 = "api.errors.permission_denied"
handler404 = "api.errors.not_found"
handler500 = "api.errors.server_error"
