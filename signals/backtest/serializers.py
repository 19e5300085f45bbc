"""The backtest's options (API body and command line alike) and its answer."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.vocabulary import Timeframe, pair_validator
from signals.models import Backtest
from signals.strategies import REGISTRY

from . import folds as wf

DATE_INPUTS = ["iso-8601", "%Y-%m-%d"]


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 1,
                },
                "example": {"atr_stop_multiple": [1.5, 2], "risk_reward": [1.5, 2]},
            },
            {"type": "string", "example": "atr_stop_multiple=1.5,2;risk_reward=1.5,2"},
        ],
        "nullable": True,
        "description": (
            "The parameter grid to optimise each fold over: strategy parameter -> "
            "values, as an object (the contract's form) or as the command's "
            "`k=v1,v2;k2=v3` text."
        ),
    }
)
class OptimizeField(serializers.Field):
    """A grid as `{"name": [values]}` or `name=v1,v2;…`; kept as the text form."""

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, dict):
            parts = []
            for name, values in data.items():
                if not isinstance(values, list) or not values:
                    self.fail("invalid")
                if any(
                    isinstance(v, bool) or not isinstance(v, int | float)
                    for v in values
                ):
                    self.fail("invalid")
                parts.append(f"{name}={','.join(repr(v) for v in values)}")
            return ";".join(parts)
        if isinstance(data, str) and len(data) <= 500:
            return data
        self.fail("invalid")

    def to_representation(self, value: str) -> dict[str, list[int | float]]:
        return wf.grid_parse(value) if value else {}

    default_error_messages = {
        "invalid": "Give an object of parameter -> non-empty list of numbers."
    }


class BacktestRequestSerializer(serializers.Serializer):
    """The `backtest` command's options; `since`/`until` are dates or times (UTC)."""

    pair = serializers.CharField(max_length=25, validators=[pair_validator])
    timeframe = serializers.ChoiceField(choices=Timeframe.choices)
    since = serializers.DateTimeField(
        required=False, allow_null=True, input_formats=DATE_INPUTS
    )
    until = serializers.DateTimeField(
        required=False, allow_null=True, input_formats=DATE_INPUTS
    )
    folds = serializers.IntegerField(
        required=False, default=5, min_value=1, max_value=wf.MAX_FOLDS
    )
    optimize = OptimizeField(required=False, allow_null=True)
    strategy = serializers.ChoiceField(
        choices=sorted(REGISTRY),
        required=False,
        default="trend_momentum",
        help_text="The registered strategy to replay.",
    )

    def validate_optimize(self, value: str | None) -> str | None:
        if not value:
            return None
        from signals.generation import strategy_params  # numpy: only when asked

        try:
            wf.grid_params(wf.grid_parse(value), strategy_params())
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": ["must not be before since"]})
        if attrs.get("optimize") and attrs.get("strategy") != "trend_momentum":
            raise serializers.ValidationError(
                {"optimize": ["only trend_momentum's parameters can be optimised"]}
            )
        return attrs


class BacktestSerializer(serializers.ModelSerializer):
    """A backtest's state; `report` is null until it is done (or failed an audit)."""

    error = serializers.SerializerMethodField()

    class Meta:
        model = Backtest
        fields = ("id", "status", "progress", "report", "error")

    def get_error(self, backtest: Backtest) -> str | None:
        return backtest.error or None


class BacktestQueuedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
