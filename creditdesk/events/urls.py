from django.urls import path

from creditdesk.events import views

urlpatterns = [
    path("event-types/", views.EventTypeListView.as_view(), name="webhook-event-types"),
    path("events/", views.EventListView.as_view(), name="webhook-events"),
    path("endpoints/", views.EndpointListView.as_view(), name="webhook-endpoints"),
    path("endpoints/<int:pk>/", views.EndpointDetailView.as_view(), name="webhook-endpoint"),
    path("endpoints/<int:pk>/rotate-secret/", views.RotateSecretView.as_view(), name="webhook-rotate"),
    path("endpoints/<int:pk>/test/", views.SendTestEventView.as_view(), name="webhook-test"),
    path("deliveries/", views.DeliveryListView.as_view(), name="webhook-deliveries"),
    path("deliveries/<int:pk>/resend/", views.ResendDeliveryView.as_view(), name="webhook-resend"),
]
