"""Webhook settings: endpoints, the delivery log, test events and resends (owners and admins)."""

from typing import cast

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import (
    GenericAPIView,
    ListAPIView,
    ListCreateAPIView,
    RetrieveUpdateDestroyAPIView,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.core.serializers import validated
from creditdesk.events import catalogue, selectors, services
from creditdesk.events.models import Delivery, WebhookEndpoint
from creditdesk.events.serializers import (
    DeliverySerializer,
    EndpointCreateSerializer,
    EndpointSerializer,
    EndpointUpdateSerializer,
    EndpointWithSecretSerializer,
    EventSerializer,
    EventTypeSerializer,
)
from creditdesk.tenancy.permissions import IsAccountManager
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.views import AccountScopedMixin


class EventTypeListView(APIView):
    @extend_schema(
        summary="The event catalogue",
        description="Every event type an endpoint can subscribe to, with what it means.",
        responses=EventTypeSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        rows = [{"type": name, "description": text} for name, text in sorted(catalogue.EVENT_TYPES.items())]
        return Response(EventTypeSerializer(rows, many=True).data)


@extend_schema_view(
    get=extend_schema(
        summary="List webhook endpoints",
        description="The account's endpoints (secrets are never listed: they are shown once, on creation).",
    ),
    post=extend_schema(
        summary="Register a webhook endpoint",
        description="Creates an endpoint. The answer carries its signing `secret` (Standard Webhooks, "
        "`whsec_...`) this one time. An empty `event_types` subscribes to every event.",
        request=EndpointCreateSerializer,
        responses={201: EndpointWithSecretSerializer},
    ),
)
class EndpointListView(AccountScopedMixin, ListCreateAPIView):
    permission_classes = [IsAccountManager]
    serializer_class = EndpointSerializer
    selector = selectors.endpoint_list

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        endpoint = services.create_endpoint(
            account=cast(TenantRequest, request).account, **validated(EndpointCreateSerializer, request.data)
        )
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary="Show a webhook endpoint", description="One endpoint, without its secret."),
    patch=extend_schema(
        summary="Change a webhook endpoint",
        description="URL, description, event types, or `is_enabled` (turning a disabled endpoint back on "
        "resets its failure count).",
        request=EndpointUpdateSerializer,
    ),
    delete=extend_schema(summary="Delete a webhook endpoint", description="Deletes it and its delivery log."),
)
class EndpointDetailView(AccountScopedMixin, RetrieveUpdateDestroyAPIView):
    permission_classes = [IsAccountManager]
    serializer_class = EndpointSerializer
    selector = selectors.endpoint_list
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        endpoint = services.update_endpoint(
            endpoint=self.get_object(), **validated(EndpointUpdateSerializer, request.data)
        )
        return Response(EndpointSerializer(endpoint).data)


class EndpointActionView(AccountScopedMixin, GenericAPIView):
    permission_classes = [IsAccountManager]
    selector = selectors.endpoint_list
    serializer_class = EndpointSerializer

    def endpoint(self) -> WebhookEndpoint:
        return self.get_object()


class RotateSecretView(EndpointActionView):
    @extend_schema(
        summary="Rotate an endpoint's secret",
        description="Replaces the signing secret at once and shows the new one this one time.",
        request=None,
        responses=EndpointWithSecretSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        return Response(EndpointWithSecretSerializer(services.rotate_secret(endpoint=self.endpoint())).data)


class SendTestEventView(EndpointActionView):
    @extend_schema(
        summary="Send a test event",
        description="Delivers a `webhook.test` event to this endpoint only; its delivery shows in the log.",
        request=None,
        responses={202: DeliverySerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        delivery = services.send_test_event(endpoint=self.endpoint())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryFilter(filters.FilterSet):
    endpoint = filters.NumberFilter(field_name="endpoint_id")
    status = filters.ChoiceFilter(choices=Delivery.Status.choices)

    class Meta:
        model = Delivery
        fields = ["endpoint", "status"]


@extend_schema_view(
    get=extend_schema(
        summary="The delivery log",
        description="Deliveries of the account's events to its endpoints, newest first, each with its "
        "attempts (response code, duration, error). Filter with `?endpoint=` and `?status=`.",
    )
)
class DeliveryListView(AccountScopedMixin, ListAPIView):
    permission_classes = [IsAccountManager]
    serializer_class = DeliverySerializer
    selector = selectors.delivery_list
    filterset_class = DeliveryFilter


class ResendDeliveryView(AccountScopedMixin, GenericAPIView):
    permission_classes = [IsAccountManager]
    serializer_class = DeliverySerializer
    selector = selectors.delivery_list

    @extend_schema(
        summary="Resend a delivery",
        description="Sends the delivery's event to its endpoint again as a new delivery (same `webhook-id`).",
        request=None,
        responses={202: DeliverySerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        delivery = services.resend_delivery(delivery=self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        summary="Recent events",
        description="The account's events, newest first (alerts, payments, grants, ...), whether or not "
        "an endpoint receives them.",
    )
)
class EventListView(AccountScopedMixin, ListAPIView):
    permission_classes = [IsAccountManager]
    serializer_class = EventSerializer
    selector = selectors.event_list
