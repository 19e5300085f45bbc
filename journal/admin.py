from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from market.pricing import pip_size

from . import services
from .charts import journal_charts
from .models import JournalEntry
from .trade import entry_errors


class JournalEntryAdminForm(forms.ModelForm):
    class Meta:
        model = JournalEntry
        fields = (
            "owner",
            "signal",
            "pair",
            "direction",
            "entry_price",
            "exit_price",
            "stop_loss",
            "take_profit",
            "quantity",
            "opened_at",
            "closed_at",
            "pnl",
            "fees",
            "swap",
            "setup",
            "notes",
        )
        help_texts = {
            "pnl": "Net of fees and swap. Leave empty to compute it from the prices."
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        pnl = data.get("pnl") if "pnl" in self.changed_data else None
        errors = entry_errors(
            direction=data.get("direction"),
            entry_price=data.get("entry_price"),
            exit_price=data.get("exit_price"),
            stop_loss=data.get("stop_loss"),
            quantity=data.get("quantity"),
            opened_at=data.get("opened_at"),
            closed_at=data.get("closed_at"),
            pnl=pnl,
            fees=data.get("fees") or 0,
            swap=data.get("swap") or 0,
            pip=pip_size(data["pair"], settings.PIP_SIZES)
            if data.get("pair")
            else None,
        )
        for name, message in errors.items():
            self.add_error(name, message)
        return data


@admin.register(JournalEntry)
class JournalEntryAdmin(admin.ModelAdmin):
    form = JournalEntryAdminForm
    list_display = (
        "id",
        "owner",
        "pair",
        "direction",
        "opened_at",
        "closed_at",
        "pnl",
        "r_multiple",
        "outcome",
        "setup",
    )
    list_filter = (
        ("owner", admin.RelatedOnlyFieldListFilter),
        "pair",
        "outcome",
        "setup",
    )
    list_select_related = ("owner",)
    search_fields = ("notes",)
    raw_id_fields = ("owner", "signal")
    readonly_fields = (
        "gross_pnl",
        "pips",
        "r_multiple",
        "outcome",
        "pnl_manual",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "opened_at"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "charts/",
                self.admin_site.admin_view(self.charts_view),
                name="journal_journalentry_charts",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        # The list filtered to one user links to that user's charts.
        owner = request.GET.get("owner__id__exact", "")
        context = {"chart_owner": owner if owner.isdigit() else ""}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    def charts_view(self, request: HttpRequest) -> HttpResponse:
        """One user's journal drawn (staff): equity and drawdown, R multiples, by
        setup and by weekday and hour; without ?owner= a list of users to pick."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Journal charts",
        }
        owner_id = request.GET.get("owner", "")
        owner = (
            get_user_model().objects.filter(pk=owner_id).first()
            if owner_id.isdigit()
            else None
        )
        if owner is None:
            context["owners"] = (
                get_user_model()
                .objects.filter(journal_entries__isnull=False)
                .annotate(entries=Count("journal_entries"))
                .order_by("username")
            )
        else:
            entries = JournalEntry.objects.for_owner(owner)
            context.update(
                owner=owner, stats=entries.stats(), **journal_charts(entries)
            )
        return TemplateResponse(
            request, "admin/journal/journalentry/charts.html", context
        )

    def save_model(
        self, request: HttpRequest, obj: JournalEntry, form: Any, change: bool
    ) -> None:
        services.entry_save(entry=obj, changed=form.changed_data)

    def delete_model(self, request: HttpRequest, obj: JournalEntry) -> None:
        services.entry_delete(entry=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.entries_delete(entries=queryset)
