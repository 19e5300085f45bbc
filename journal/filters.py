"""Query-parameter filters of the journal list and stats."""

import django_filters
from django.db.models import QuerySet

from core.filters import PairListFilter, SinceFilter, StrictFilterSet, UntilFilter
from signals.choices import Outcome

from .models import JournalEntry


class JournalEntryFilter(StrictFilterSet):
    """The list's filters; since/until are on opened_at."""

    account = django_filters.NumberFilter(
        field_name="account_id", help_text="One of your accounts' id."
    )
    pair = PairListFilter(help_text="One pair, or several comma separated.")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    setup = django_filters.CharFilter(help_text="Exact setup name.")
    since = SinceFilter(
        field_name="opened_at", help_text="opened_at ≥ since (inclusive)."
    )
    until = UntilFilter(
        field_name="opened_at", help_text="opened_at ≤ until (inclusive)."
    )

    class Meta:
        model = JournalEntry
        fields: list[str] = []


class JournalStatsFilter(StrictFilterSet):
    """The stats' filters; since/until are on closed_at, or opened_at while open."""

    account = django_filters.NumberFilter(
        field_name="account_id", help_text="One of your accounts' id."
    )
    pair = PairListFilter(help_text="One pair, or several comma separated.")
    setup = django_filters.CharFilter(help_text="Exact setup name.")
    since = SinceFilter(
        method="filter_period",
        help_text="closed_at (opened_at for open entries) ≥ since, inclusive.",
    )
    until = UntilFilter(
        method="filter_period",
        help_text="closed_at (opened_at for open entries) ≤ until, inclusive.",
    )

    class Meta:
        model = JournalEntry
        fields: list[str] = []

    def filter_period(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        return queryset  # both bounds are applied together in filter_queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        return queryset.in_period(since=data.get("since"), until=data.get("until"))
