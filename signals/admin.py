from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from market.admin import EstimatedCountPaginator, PairFilter

from . import services
from .models import Signal


class SignalAdminForm(forms.ModelForm):
    """The admin builds the fields from the fieldsets below."""

    def clean(self) -> dict[str, Any]:
        """The service's storability check, as form errors instead of a 500."""
        data = super().clean()
        candidate = Signal(
            **{
                field.attname: data.get(
                    field.name, getattr(self.instance, field.attname)
                )
                for field in Signal._meta.concrete_fields
                if not field.primary_key
            }
        )
        if all(
            getattr(candidate, name) is not None
            for name in ("entry_price", "stop_loss", "take_profit")
        ):
            services.signal_derive(candidate)
            for name, messages in services.signal_errors(candidate).items():
                self.add_error(name, messages)
        return data


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    form = SignalAdminForm
    list_display = (
        "id",
        "timestamp",
        "pair",
        "timeframe",
        "direction",
        "entry_price",
        "stop_loss",
        "take_profit",
        "confidence",
        "status",
        "outcome",
        "pips",
    )
    list_filter = (PairFilter, "status", "outcome", "timeframe", "direction")
    search_fields = ("=pair", "=strategy", "=id")
    date_hierarchy = "timestamp"
    ordering = ("-timestamp", "-id")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ("risk_reward", "pips", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("pair", "timeframe", "strategy", "timestamp", "direction")}),
        (
            "Levels",
            {
                "fields": (
                    "entry_price",
                    "stop_loss",
                    "take_profit",
                    "risk_reward",
                    "confidence",
                )
            },
        ),
        ("Outcome", {"fields": services.OUTCOME_FIELDS}),
        ("Analysis", {"fields": ("indicators", "reasoning")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("indicators", "reasoning")

    def save_model(
        self, request: HttpRequest, obj: Signal, form: Any, change: bool
    ) -> None:
        services.signal_save(signal=obj)

    def delete_model(self, request: HttpRequest, obj: Signal) -> None:
        services.signals_delete(queryset=Signal.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.signals_delete(queryset=queryset)
