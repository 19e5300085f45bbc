from decimal import Decimal
from typing import Any

from rest_framework import serializers

from api.validators import validate_json_without_nul
from market.choices import Timeframe
from market.validators import pair_validator

from .generation import SKIP_REASONS
from .models import Signal
from .pricing import levels_error
from .querysets import MINIMAL_FIELDS

LEVEL_FIELDS = ("direction", "entry_price", "stop_loss", "take_profit")
DETAIL_FIELDS = (
    *MINIMAL_FIELDS,
    "risk_reward",
    "strategy",
    "indicators",
    "reasoning",
    "exit_price",
    "pips",
    "mae_pips",
    "mfe_pips",
    "closed_at",
    "created_at",
    "updated_at",
)


class SignalListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signal
        fields = MINIMAL_FIELDS
        read_only_fields = MINIMAL_FIELDS


class SignalFeedSerializer(SignalListSerializer):
    """The minimal form again; its own name keeps the feed's page schema apart."""

    class Meta(SignalListSerializer.Meta):
        pass


class SignalSerializer(serializers.ModelSerializer):
    """Detail form; also validates writes (levels must fit the direction)."""

    pair = serializers.CharField(max_length=25, validators=[pair_validator])
    entry_price = serializers.DecimalField(
        max_digits=20, decimal_places=8, min_value=Decimal("0.00000001")
    )
    stop_loss = serializers.DecimalField(
        max_digits=20, decimal_places=8, min_value=Decimal("0.00000001")
    )
    take_profit = serializers.DecimalField(
        max_digits=20, decimal_places=8, min_value=Decimal("0.00000001")
    )
    confidence = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100)
    )
    indicators = serializers.DictField(
        required=False, validators=[validate_json_without_nul]
    )

    class Meta:
        model = Signal
        fields = DETAIL_FIELDS
        read_only_fields = (
            "id",
            "risk_reward",
            "pips",
            "mae_pips",
            "mfe_pips",
            "created_at",
            "updated_at",
        )
        # Uniqueness is checked once per request by the service, not once per item.
        validators: list = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in LEVEL_FIELDS
        }
        if all(value is not None for value in current.values()):
            error = levels_error(
                current["direction"],
                current["entry_price"],
                current["stop_loss"],
                current["take_profit"],
            )
            if error:
                raise serializers.ValidationError({"stop_loss": [error]})
        if attrs.get("indicators") is None:
            attrs.pop("indicators", None)
        return attrs


class SignalBulkUpdateItemSerializer(SignalSerializer):
    """Documents one item of a bulk update: the id and the fields to change."""

    id = serializers.IntegerField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "id":
                field.required = False


class BulkCreateResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


class BulkUpdateResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()


class BulkErrorSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text=(
            "Errors by the item's index in the request list; a body that is not a "
            "non-empty list within BULK_MAX_ITEMS gets `non_field_errors` instead."
        ),
    )


class PairStatsSerializer(serializers.Serializer):
    pair = serializers.CharField()
    total = serializers.IntegerField()
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True)
    avg_confidence = serializers.FloatField(allow_null=True)
    total_pips = serializers.FloatField()


class CalibrationBucketSerializer(serializers.Serializer):
    min_confidence = serializers.IntegerField()
    max_confidence = serializers.IntegerField()
    signals = serializers.IntegerField()
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True)


class CalibrationSerializer(serializers.Serializer):
    brier_score = serializers.FloatField(allow_null=True)
    buckets = CalibrationBucketSerializer(many=True)


class SignalStatsSerializer(serializers.Serializer):
    """Documents the stats answer (built by SignalQuerySet.stats)."""

    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_outcome = serializers.DictField(child=serializers.IntegerField())
    win_rate = serializers.FloatField(allow_null=True)
    avg_confidence = serializers.FloatField(allow_null=True)
    total_pips = serializers.FloatField()
    by_pair = PairStatsSerializer(many=True)
    calibration = CalibrationSerializer()


class GenerateRequestSerializer(serializers.Serializer):
    """Both optional: SIGNAL_PAIRS and SIGNAL_TIMEFRAME by default."""

    pairs = serializers.ListField(
        child=serializers.CharField(max_length=25, validators=[pair_validator]),
        allow_empty=False,
        max_length=1000,
        required=False,
    )
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, required=False)


class SkippedPairSerializer(serializers.Serializer):
    pair = serializers.CharField()
    reason = serializers.ChoiceField(choices=SKIP_REASONS)


class GenerateResultSerializer(serializers.Serializer):
    generated = SignalSerializer(many=True)
    skipped = SkippedPairSerializer(many=True)
    duration_ms = serializers.FloatField()
