from rest_framework import serializers

from core.vocabulary import EventType, Timeframe, pair_validator

from .models import WebhookDelivery, WebhookSubscription
from .services import url_error

FIELDS = (
    "id",
    "url",
    "types",
    "pairs",
    "timeframes",
    "min_confidence",
    "state",
    "created_at",
)


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    """A subscription as listed: never the secret. `state` may be set to enabled
    again after a 410 disabled it."""

    url = serializers.URLField(max_length=2000)
    types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        required=False,
        max_length=10,
        help_text="Event types to deliver; empty or absent: every type.",
    )
    pairs = serializers.ListField(
        child=serializers.CharField(max_length=25, validators=[pair_validator]),
        required=False,
        max_length=100,
    )
    timeframes = serializers.ListField(
        child=serializers.ChoiceField(choices=Timeframe.choices),
        required=False,
        max_length=10,
    )
    min_confidence = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
    )

    class Meta:
        model = WebhookSubscription
        fields = FIELDS
        read_only_fields = ("id", "created_at")

    def validate_url(self, value: str) -> str:
        problem = url_error(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The answer to a create: the subscription and, this once, its secret."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = (*FIELDS, "secret")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "event_id",
            "event_type",
            "state",
            "attempts",
            "last_status",
            "last_error",
            "next_attempt_at",
            "delivered_at",
        )
        read_only_fields = fields
