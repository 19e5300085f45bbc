from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import STRICT_FIELD_MAPPING, StoredDecimalField
from core.vocabulary import pair_validator
from market.pricing import pip_size
from signals.choices import Direction
from signals.models import Signal

from .excursions import in_r
from .models import TAG_LIMIT, TAG_PATTERN, Account, JournalEntry
from .querysets import API_FIELDS
from .services import entry_values_from_signal
from .trade import entry_errors

PRICE = {"max_digits": 20, "decimal_places": 8, "min_value": Decimal("0.00000001")}
POSITIVE = {"min_value": "Must be greater than 0."}
REQUIRED_ON_CREATE = ("pair", "direction", "entry_price")
RULE_FIELDS = (
    "direction",
    "entry_price",
    "exit_price",
    "stop_loss",
    "quantity",
    "opened_at",
    "closed_at",
)


class SignalField(serializers.PrimaryKeyRelatedField):
    """A signal id; a bulk request looks its ids up once, in context["signals"]."""

    def to_internal_value(self, data: Any) -> Signal:
        try:
            if isinstance(data, bool):
                raise TypeError
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        known = self.context.get("signals")
        if not 0 < pk < 2**63:  # beyond a bigint: cannot exist, must not reach SQL
            self.fail("does_not_exist", pk_value=data)
        if known is None:
            return super().to_internal_value(pk)
        if pk not in known:
            self.fail("does_not_exist", pk_value=data)
        return known[pk]


class AccountSerializer(serializers.ModelSerializer):
    serializer_field_mapping = STRICT_FIELD_MAPPING

    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "An ISO 4217 code of three letters, e.g. USD."},
    )

    class Meta:
        model = Account
        fields = ("id", "name", "broker", "currency", "timezone", "created_at")
        read_only_fields = ("id", "created_at")

    def validate_currency(self, value: str) -> str:
        return value.upper()


@extend_schema_field(OpenApiTypes.INT)
class AccountField(serializers.PrimaryKeyRelatedField):
    """An id of one of the owner's accounts (context["owner_id"]); a bulk request
    looks the owner's accounts up once, in context["accounts"]. Another user's
    account is unknown, as a missing one."""

    def get_queryset(self) -> Any:
        return Account.objects.for_owner(self.context.get("owner_id"))

    def to_internal_value(self, data: Any) -> Account:
        try:
            if isinstance(data, bool):
                raise TypeError
            pk = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < pk < 2**63:
            self.fail("does_not_exist", pk_value=data)
        known = self.context.get("accounts")
        if known is None:
            return super().to_internal_value(pk)
        if pk not in known:
            self.fail("does_not_exist", pk_value=data)
        return known[pk]


class TagField(serializers.RegexField):
    """A tag name, lower-cased before it is checked."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            rf"^{TAG_PATTERN}$",
            error_messages={
                "invalid": (
                    "A tag is 1 to 40 letters, digits, spaces, _ or -, starting"
                    " with a letter or digit (lower-cased)."
                )
            },
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data.lower())


class TagListField(serializers.ListField):
    """The entry's tags, sorted; a write gives the whole list (duplicates merge)."""

    child = TagField()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=TAG_LIMIT, **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        return sorted(set(super().to_internal_value(data)))

    def to_representation(self, value: Any) -> list[str]:
        return sorted(tag.name for tag in value.all())


class JournalEntrySerializer(serializers.ModelSerializer):
    """The entry shape; validates writes (derived fields are the service's)."""

    serializer_field_mapping = STRICT_FIELD_MAPPING

    account = AccountField(
        required=False,
        help_text="One of your accounts; your default account when omitted.",
    )
    signal = SignalField(queryset=Signal.objects.all(), allow_null=True, required=False)
    pair = serializers.CharField(
        max_length=25, validators=[pair_validator], required=False
    )
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    entry_price = StoredDecimalField(**PRICE, required=False)
    exit_price = StoredDecimalField(**PRICE, required=False, allow_null=True)
    stop_loss = StoredDecimalField(**PRICE, required=False, allow_null=True)
    take_profit = StoredDecimalField(**PRICE, required=False, allow_null=True)
    quantity = StoredDecimalField(**PRICE, error_messages=POSITIVE)
    fees = StoredDecimalField(
        max_digits=24,
        decimal_places=8,
        min_value=Decimal(0),
        required=False,
        help_text="Commission, ≥ 0 (default 0).",
    )
    swap = StoredDecimalField(
        max_digits=24,
        decimal_places=8,
        required=False,
        help_text="Financing, signed (default 0).",
    )
    gross_pnl = StoredDecimalField(
        max_digits=24,
        decimal_places=8,
        required=False,
        allow_null=True,
        help_text="Before costs; the client's if given, else from the prices.",
    )
    tags = TagListField(
        required=False,
        help_text=f"Your own labels, at most {TAG_LIMIT}, each {TAG_PATTERN}.",
    )
    pnl = StoredDecimalField(
        max_digits=24,
        decimal_places=8,
        required=False,
        allow_null=True,
        help_text="Net: gross_pnl − fees + swap. Give this or gross_pnl, not both.",
    )

    mae_r = serializers.SerializerMethodField(
        help_text="mae_pips in units of the initial risk |entry − stop|; null "
        "without a stop or without excursions."
    )
    mfe_r = serializers.SerializerMethodField(
        help_text="mfe_pips in units of the initial risk; null as mae_r."
    )

    class Meta:
        model = JournalEntry
        fields = (*API_FIELDS, "mae_r", "mfe_r", "tags")
        read_only_fields = (
            "id",
            "pips",
            "r_multiple",
            "mae_pips",
            "mfe_pips",
            "outcome",
            "created_at",
            "updated_at",
        )

    def get_mae_r(self, entry: JournalEntry) -> float | None:
        return in_r(entry.mae_pips, entry)

    def get_mfe_r(self, entry: JournalEntry) -> float | None:
        return in_r(entry.mfe_pips, entry)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            attrs = entry_values_from_signal(attrs)
            missing = [name for name in REQUIRED_ON_CREATE if attrs.get(name) is None]
            if missing:
                raise serializers.ValidationError(
                    {name: ["This field is required."] for name in missing}
                )
        values = {
            name: attrs[name] if name in attrs else getattr(self.instance, name, None)
            for name in RULE_FIELDS
        }
        pair = attrs.get("pair") or getattr(self.instance, "pair", None)
        pip = pip_size(pair, settings.PIP_SIZES) if pair else None
        costs = {
            name: attrs[name] if name in attrs else getattr(self.instance, name, 0)
            for name in ("fees", "swap")
        }
        errors = entry_errors(
            **values,
            **costs,
            pnl=attrs.get("pnl"),
            gross_pnl=attrs.get("gross_pnl"),
            pip=pip,
        )
        if errors:
            raise serializers.ValidationError(
                {name: [message] for name, message in errors.items()}
            )
        return attrs


class JournalPairStatsSerializer(serializers.Serializer):
    pair = serializers.CharField()
    trades = serializers.IntegerField(help_text="Closed entries.")
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text="wins / trades")
    total_pnl = serializers.FloatField()
    total_pips = serializers.FloatField()


class JournalMonthStatsSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM of closed_at, UTC.")
    trades = serializers.IntegerField()
    wins = serializers.IntegerField()
    total_pnl = serializers.FloatField()


class JournalGroupStatsSerializer(serializers.Serializer):
    """One group of closed entries in a breakdown."""

    trades = serializers.IntegerField(help_text="Closed entries.")
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text="wins / trades")
    total_pnl = serializers.FloatField()
    expectancy = serializers.FloatField(allow_null=True, help_text="total_pnl / trades")


class JournalWeekdayStatsSerializer(JournalGroupStatsSerializer):
    weekday = serializers.IntegerField(help_text="0 = Monday … 6, of opened_at.")


class JournalHourStatsSerializer(JournalGroupStatsSerializer):
    hour = serializers.IntegerField(help_text="0–23, of opened_at.")


class JournalSessionStatsSerializer(JournalGroupStatsSerializer):
    session = serializers.ChoiceField(choices=["asia", "london", "new_york"])


class JournalHoldingStatsSerializer(JournalGroupStatsSerializer):
    holding_time = serializers.ChoiceField(
        choices=["<5m", "5m-1h", "1h-4h", "4h-1d", "1d-1w", ">1w"]
    )


class JournalTagStatsSerializer(JournalGroupStatsSerializer):
    tag = serializers.CharField()


class JournalRBucketSerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is declared by name below.
    to = serializers.FloatField(allow_null=True, help_text="Exclusive; null: open.")
    trades = serializers.IntegerField()

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "from": serializers.FloatField(
                allow_null=True, help_text="Inclusive; null: open."
            ),
            **super().get_fields(),
        }


class JournalStatsSerializer(serializers.Serializer):
    """Documents the stats answer (built by JournalEntryQuerySet.stats)."""

    total_trades = serializers.IntegerField()
    open_trades = serializers.IntegerField()
    closed_trades = serializers.IntegerField()
    wins = serializers.IntegerField()
    losses = serializers.IntegerField()
    breakevens = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True)
    total_pnl = serializers.FloatField(help_text="Net: gross_pnl − fees + swap.")
    total_fees = serializers.FloatField()
    total_swap = serializers.FloatField()
    gross_pnl = serializers.FloatField(help_text="Before costs.")
    gross_profit = serializers.FloatField()
    gross_loss = serializers.FloatField()
    profit_factor = serializers.FloatField(allow_null=True)
    avg_win = serializers.FloatField(allow_null=True)
    avg_loss = serializers.FloatField(allow_null=True)
    expectancy = serializers.FloatField(allow_null=True)
    avg_r_multiple = serializers.FloatField(allow_null=True)
    total_pips = serializers.FloatField()
    largest_win = serializers.FloatField(allow_null=True)
    largest_loss = serializers.FloatField(allow_null=True)
    max_drawdown = serializers.FloatField()
    longest_win_streak = serializers.IntegerField()
    longest_loss_streak = serializers.IntegerField()
    payoff_ratio = serializers.FloatField(allow_null=True)
    sqn = serializers.FloatField(allow_null=True)
    by_pair = JournalPairStatsSerializer(
        many=True, help_text="Pairs with entries in the filter, sorted by pair."
    )
    by_month = JournalMonthStatsSerializer(many=True)
    by_weekday = JournalWeekdayStatsSerializer(
        many=True,
        help_text=(
            "Every weekday; local time of the entries' account, or UTC when the "
            "selected entries' accounts have different time zones."
        ),
    )
    by_hour = JournalHourStatsSerializer(many=True, help_text="Every hour, as above.")
    by_session = JournalSessionStatsSerializer(
        many=True,
        help_text=(
            "asia 00–09 Tokyo, london 08–17 London, new_york 08–17 New York, each in "
            "its city's local time; an entry counts in every session it opened in."
        ),
    )
    by_holding_time = JournalHoldingStatsSerializer(many=True)
    by_tag = JournalTagStatsSerializer(many=True, help_text="Sorted by tag.")
    r_histogram = JournalRBucketSerializer(
        many=True, help_text="Buckets of 0.5 R from −3 to 3, the ends open."
    )
    exit_efficiency = serializers.FloatField(
        allow_null=True,
        help_text="Mean pips / mfe_pips over winning entries with excursions.",
    )
