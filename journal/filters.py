"""Query-parameter filters of the journal list and stats."""

import re
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from core.filters import PairListFilter, SinceFilter, StrictFilterSet, UntilFilter
from signals.choices import Outcome

from .models import TAG_PATTERN, JournalEntry

TAG_MODES = [("any", "any"), ("all", "all")]


class TagListField(forms.CharField):
    """One tag or several, comma separated, lower-cased; each must be a tag name."""

    def clean(self, value: Any) -> list[str] | None:
        value = super().clean(value)
        if not value:
            return None
        names = [name.strip().lower() for name in value.split(",")]
        bad = [name for name in names if not re.fullmatch(TAG_PATTERN, name)]
        if bad:
            raise forms.ValidationError(
                "Not a tag name (%(pattern)s): %(names)s",
                params={"pattern": TAG_PATTERN, "names": ", ".join(bad)},
            )
        return names


class TagListFilter(django_filters.Filter):
    field_class = TagListField


class TagFilters(StrictFilterSet):
    """`tag` (one or several) and `tag_mode`, applied together."""

    tag = TagListFilter(
        method="filter_tags",
        help_text="One tag, or several comma separated (see tag_mode).",
    )
    tag_mode = django_filters.ChoiceFilter(
        choices=TAG_MODES,
        method="filter_tags",
        help_text="any (default): entries with one of the tags; all: with every one.",
    )

    def filter_tags(self, queryset: QuerySet, name: str, value: object) -> QuerySet:
        return queryset  # both are applied together in filter_queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not data.get("tag"):
            return queryset
        return queryset.with_tags(data["tag"], data.get("tag_mode") or "any")


class JournalEntryFilter(TagFilters):
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


class JournalStatsFilter(TagFilters):
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
