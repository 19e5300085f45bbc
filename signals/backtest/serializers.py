"""The backtest's options (API body and command line alike) and its answer."""

from typing import Any

from rest_framework import serializers

from market.choices import Timeframe
from market.validators import pair_validator
from signals.generation import strategy_params
from signals.models import Backtest

from . import folds as wf

DATE_INPUTS = ["iso-8601", "%Y-%m-%d"]


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
    optimize = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=500
    )

    def validate_optimize(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            wf.grid_params(wf.grid_parse(value), strategy_params())
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": ["must not be before since"]})
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
