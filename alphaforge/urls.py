from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/token/", obtain_auth_token, name="auth-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("signals.urls")),
    path("api/", include("journal.urls")),
    path("", include("monitoring.urls")),
]

handler400 = "alphaforge.errors.bad_request"
handler403 = "alphaforge.errors.permission_denied"
handler404 = "alphaforge.errors.not_found"
handler500 = "alphaforge.errors.server_error"
