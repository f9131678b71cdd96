from django.urls import path

from creditdesk.analytics.views import UsageAnalyticsView

urlpatterns = [path("usage/analytics/", UsageAnalyticsView.as_view(), name="usage-analytics")]
