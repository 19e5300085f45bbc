from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from core.admin import EstimatedCountPaginator, PairFilter

from . import charts, services
from .filters import SignalFilter
from .models import Signal
from .records import strategy_records

# The filters the performance page offers (the API's, by the same names).
PERFORMANCE_FILTERS = ("pair", "timeframe", "strategy", "since", "until")


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
        "score",
        "strategy",
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
    readonly_fields = ("risk_reward", "pips", "created_at", "updated_at", "calibration")
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
                    "score",
                    "calibration",
                )
            },
        ),
        ("Outcome", {"fields": services.OUTCOME_FIELDS}),
        ("Analysis", {"fields": ("indicators", "reasoning")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("indicators", "reasoning")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "performance/",
                view(self.performance_view),
                name="signals_signal_performance",
            ),
            path(
                "<int:object_id>/chart-data/",
                view(self.chart_data_view),
                name="signals_signal_chart_data",
            ),
            *super().get_urls(),
        ]

    def chart_data_view(self, request: HttpRequest, object_id: int) -> JsonResponse:
        """The change page's chart: the signal's candles, levels and exit (staff)."""
        signal = Signal.objects.filter(pk=object_id).first()
        if signal is None:
            raise Http404("No such signal.")
        if not self.has_view_permission(request, signal):
            raise PermissionDenied
        return JsonResponse(charts.signal_chart(signal))

    def performance_view(self, request: HttpRequest) -> HttpResponse:
        """Calibration, results by pair and cumulative pips: /api/signals/stats/'s
        numbers for the same filters, drawn."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = {k: v for k, v in request.GET.items() if k in PERFORMANCE_FILTERS}
        filterset = SignalFilter(query, queryset=Signal.objects.all())
        valid = filterset.is_valid()
        queryset = filterset.qs if valid else Signal.objects.none()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Signal performance",
            "form": filterset.form,
            "fields": [filterset.form[name] for name in PERFORMANCE_FILTERS],
            "valid": valid,
            **charts.performance(
                queryset, filterset.form.cleaned_data if valid else None
            ),
            # Each strategy's live record, as /api/strategies/ gives it; its link
            # filters this page to it, whose calibration chart is its reliability
            # diagram.
            "strategies": strategy_records(),
        }
        return TemplateResponse(
            request, "admin/signals/signal/performance.html", context
        )

    def save_model(
        self, request: HttpRequest, obj: Signal, form: Any, change: bool
    ) -> None:
        services.signal_save(signal=obj)

    def delete_model(self, request: HttpRequest, obj: Signal) -> None:
        services.signals_delete(queryset=Signal.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.signals_delete(queryset=queryset)
