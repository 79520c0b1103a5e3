from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from supervision.api import MetricsView


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:inbox", permanent=False)),
    path("console/", include("console.urls")),
    # The shopper page: open an inquiry, follow it live (signed access links land here).
    path("shop/", include("shop.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="console/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("tickets.urls")),
    path("api/v1/", include("routing.urls")),
    path("api/v1/", include("classification.urls")),
    path("api/v1/", include("notifications.urls")),
    path("api/v1/", include("satisfaction.urls")),
    # Callbacks: shopper API, the shopper's signed-link page and console actions (full paths inside).
    path("", include("callbacks.urls")),
    # The ticket page's order fragment (the storefront's order system, fetched after the page loads).
    path("", include("orders.urls")),
    # After-sales: the API, the console's one-click resolutions, the shopper's "problem with this order".
    path("", include("aftersales.urls")),
    # Supervisors: the dashboard, the health API for wallboards, Prometheus' /metrics.
    path("console/dashboard/", include("supervision.urls")),
    path("api/v1/", include("supervision.api_urls")),
    # The storefront's webhook endpoints (signed events out; see webhooks/).
    path("api/v1/", include("webhooks.urls")),
    path("api/v1/", include("proactive.urls")),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (no inline script under the CSP); Swagger
    # UI's page still carries one inline <style>, allowed on this view only.
    path(
        "api/docs/",
        csp_update({"style-src": [SELF, UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger-ui",
    ),
    path("healthz", healthz),
]
handler404 = "console.views.page_not_found"
handler403 = "console.views.permission_denied"
handler500 = "console.views.server_error"

if settings.BENCH_ENDPOINTS:
    from ops import bench_views

    urlpatterns += [path("bench/bare", bench_views.bare), path("bench/row", bench_views.one_row)]
