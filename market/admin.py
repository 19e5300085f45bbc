"""Candles in the admin."""

from django.contrib import admin

from core.admin import EstimatedCountPaginator, PairFilter

from .models import Candle


@admin.register(Candle)
class CandleAdmin(admin.ModelAdmin):
    list_display = ("pair", "timeframe", "timestamp", "open", "high", "low", "close")
    list_filter = (PairFilter, "timeframe")
    date_hierarchy = "timestamp"
    ordering = ("-timestamp",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
