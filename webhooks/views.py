from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from api.pagination import PagePagination

from . import services
from .models import WebhookDelivery, WebhookSubscription
from .serializers import (
    WebhookDeliverySerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="Own webhook subscriptions (never their secrets)"),
    retrieve=extend_schema(summary="One own webhook subscription"),
    create=extend_schema(
        summary="Subscribe a URL to events",
        responses={201: WebhookSubscriptionCreatedSerializer},
    ),
    partial_update=extend_schema(summary="Change a subscription (not its secret)"),
    destroy=extend_schema(summary="Remove a subscription"),
)
class WebhookSubscriptionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Each user's own subscriptions: another user's id is a 404."""

    serializer_class = WebhookSubscriptionSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = PagePagination
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return WebhookSubscription.objects.filter(owner=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = WebhookSubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            subscription = services.subscription_create(
                owner_id=request.user.id, data=serializer.validated_data
            )
        except services.SubscriptionLimit:
            raise ValidationError(
                {"url": ["You have the most subscriptions a user may have."]}
            ) from None
        body = WebhookSubscriptionCreatedSerializer(subscription).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Deliveries of a subscription, newest first",
        responses=WebhookDeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        page = self.paginate_queryset(subscription.deliveries.order_by("-id"))
        return self.get_paginated_response(
            WebhookDeliverySerializer(page, many=True).data
        )

    @extend_schema(
        summary="Attempt a failed delivery again",
        request=None,
        responses={
            202: WebhookDeliverySerializer,
            400: OpenApiResponse(description="The delivery has not failed."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>\d+)/retry",
    )
    def retry(self, request: Request, pk: str, delivery_id: str) -> Response:
        subscription = self.get_object()
        delivery = get_object_or_404(
            WebhookDelivery, pk=delivery_id, subscription=subscription
        )
        try:
            delivery = services.delivery_retry(delivery=delivery)
        except services.DeliveryNotFailed:
            raise ValidationError(
                {"state": ["Only a failed delivery is retried."]}
            ) from None
        return Response(
            WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
