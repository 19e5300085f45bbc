from decimal import Decimal
from typing import Any

from rest_framework import serializers

from api.fields import STRICT_FIELD_MAPPING, StoredDecimalField
from core.validators import validate_json_without_nul
from core.vocabulary import Timeframe, pair_validator
from market.pricing import levels_error

from .choices import CalibrationMethod, SkipReason
from .models import Signal
from .storage.columns import DETAIL_FIELDS, MINIMAL_FIELDS

LEVEL_FIELDS = ("direction", "entry_price", "stop_loss", "take_profit")


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

    serializer_field_mapping = STRICT_FIELD_MAPPING

    pair = serializers.CharField(max_length=25, validators=[pair_validator])
    entry_price = StoredDecimalField(
        max_digits=20, decimal_places=8, min_value=Decimal("0.00000001")
    )
    stop_loss = StoredDecimalField(
        max_digits=20, decimal_places=8, min_value=Decimal("0.00000001")
    )
    take_profit = StoredDecimalField(
        max_digits=20, decimal_places=8, min_value=Decimal("0.00000001")
    )
    confidence = StoredDecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100)
    )
    indicators = serializers.DictField(
        required=False, validators=[validate_json_without_nul]
    )
    score = StoredDecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        allow_null=True,
        help_text="The strategy's own rating of the setup (not a probability); "
        "null when the signal has none (created through the API without one).",
    )
    calibration_id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The calibration map that turned `score` into `confidence`; null "
        "for the prior of a strategy with too few outcomes or a signal created "
        "through the API.",
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


class SignalBulkUpdateSerializer:
    """Validates a bulk-update body, `[{id, ...fields}]`, against the stored signals.

    Each item needs a positive integer id, not repeated, of a stored signal (one
    query for all); its fields are checked as a PATCH of that signal would be.
    `errors` are by request index; `changes` are (id, validated fields) pairs, and
    `request_errors` turns errors by position in `changes` back into request indexes.
    """

    def __init__(self, items: list) -> None:
        self.items = items
        self.errors: dict[str, dict] = {}
        self.changes: list[tuple[int, dict[str, Any]]] = []
        self._indexes: list[int] = []

    def is_valid(self) -> bool:
        wanted = self._wanted_ids()
        stored = Signal.objects.in_bulk(list(wanted))
        for pk, index in wanted.items():
            if pk not in stored:
                self.errors[str(index)] = {"id": [f"No signal with id {pk}."]}
                continue
            fields = {k: v for k, v in self.items[index].items() if k != "id"}
            item = SignalSerializer(stored[pk], data=fields, partial=True)
            if item.is_valid():
                self.changes.append((pk, item.validated_data))
                self._indexes.append(index)
            else:
                self.errors[str(index)] = item.errors
        return not self.errors

    def _wanted_ids(self) -> dict[int, int]:
        """Request index of each well-formed id; errors for the other items."""
        wanted: dict[int, int] = {}
        for index, item in enumerate(self.items):
            pk = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item, dict):
                problem = {"non_field_errors": ["Each item must be an object."]}
            elif isinstance(pk, bool) or not isinstance(pk, int) or not 0 < pk < 2**63:
                problem = {"id": ["A positive integer id is required."]}
            elif pk in wanted:
                problem = {"id": [f"Repeats item {wanted[pk]} of this request."]}
            else:
                wanted[pk] = index
                continue
            self.errors[str(index)] = problem
        return wanted

    def request_errors(self, errors: dict[str, dict]) -> dict[str, dict]:
        return {str(self._indexes[int(k)]): v for k, v in errors.items()}


class BulkUpdateResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()


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
    base_rate_brier = serializers.FloatField(
        allow_null=True, help_text="p(1 − p) for the win rate p of these signals."
    )
    brier_skill_score = serializers.FloatField(
        allow_null=True,
        help_text="1 − brier_score / base_rate_brier (0: no better than the base "
        "rate; negative: worse).",
    )
    calibration_error = serializers.FloatField(
        allow_null=True,
        help_text="Expected calibration error over the ten buckets, in points.",
    )
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
        min_length=1,  # allow_empty's rule, stated so the schema says minItems
        max_length=1000,
        required=False,
    )
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, required=False)


class SkippedPairSerializer(serializers.Serializer):
    pair = serializers.CharField()
    reason = serializers.ChoiceField(choices=SkipReason.values)


class GenerateResultSerializer(serializers.Serializer):
    generated = SignalSerializer(many=True)
    skipped = SkippedPairSerializer(many=True)
    duration_ms = serializers.FloatField()


class StrategyRecordSerializer(serializers.Serializer):
    """A strategy's record over some signals (documents records.strategy_records)."""

    signals = serializers.IntegerField()
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True)
    expectancy_r = serializers.FloatField(allow_null=True)
    profit_factor = serializers.FloatField(allow_null=True)
    brier_score = serializers.FloatField(allow_null=True)
    base_rate_brier = serializers.FloatField(allow_null=True)
    brier_skill_score = serializers.FloatField(allow_null=True)
    calibration_error = serializers.FloatField(allow_null=True)
    buckets = CalibrationBucketSerializer(many=True)


class WalkForwardRecordSerializer(StrategyRecordSerializer):
    backtest_id = serializers.IntegerField()
    # "from" is a keyword: the field is added under its name below.
    to = serializers.DateTimeField(allow_null=True)


WalkForwardRecordSerializer._declared_fields["from"] = serializers.DateTimeField(
    allow_null=True
)


class StrategyCalibrationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    fitted_at = serializers.DateTimeField()
    outcomes_until = serializers.DateTimeField()
    count = serializers.IntegerField()
    base_rate = serializers.FloatField()
    method = serializers.ChoiceField(choices=CalibrationMethod.choices)


class StrategySerializer(serializers.Serializer):
    """One registered strategy and its record (GET /api/strategies/)."""

    name = serializers.CharField()
    description = serializers.CharField()
    parameters = serializers.DictField()
    timeframes = serializers.ListField(child=serializers.CharField())
    enabled = serializers.BooleanField()
    live = StrategyRecordSerializer()
    walk_forward = WalkForwardRecordSerializer(allow_null=True)
    calibration = StrategyCalibrationSerializer(allow_null=True)


class StrategyListSerializer(serializers.Serializer):
    results = StrategySerializer(many=True)
