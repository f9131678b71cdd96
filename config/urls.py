from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from creditdesk.accounts.urls import account_urlpatterns, auth_urlpatterns
from creditdesk.core import views as core_views

api_v1 = [
    path("health/", core_views.HealthView.as_view(), name="health"),
    path("auth/", include(auth_urlpatterns)),
    path("account/", include(account_urlpatterns)),
    path("account/", include("creditdesk.analytics.urls")),
    path("billing/", include("creditdesk.billing.urls")),
    path("webhooks/", include("creditdesk.events.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^api/", core_views.api_not_found),
    path("admin/", admin.site.urls),
    re_path(r"^(?!static/|assets/).*$", core_views.spa_index, name="spa"),
]

handler400 = "creditdesk.core.views.bad_request"
handler404 = "creditdesk.core.views.not_found"
handler500 = "creditdesk.core.views.server_error"
