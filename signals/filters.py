"""Query-parameter filters shared by the signal list, feed and stats."""

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from core.filters import PairListFilter, SinceFilter, StrictFilterSet, UntilFilter
from core.vocabulary import Timeframe, pair_list, pairs_invalid

from .choices import Direction, Outcome, Status
from .models import Signal

STRATEGY_MAX_LENGTH = 50  # the column's: a signal made through the API may carry any


class StrategyListField(forms.CharField):
    """One strategy name or several, comma separated, each 1 to 50 characters.
    Registered names are `[a-z0-9_]{1,40}`, but a filter may ask for any stored one."""

    def clean(self, value: Any) -> list[str] | None:
        value = super().clean(value)
        if not value:
            return None
        names = [item.strip() for item in value.split(",")]
        bad = [n for n in names if not 0 < len(n) <= STRATEGY_MAX_LENGTH]
        if bad:
            raise forms.ValidationError(
                "Each strategy name must have 1 to %(limit)s characters.",
                params={"limit": STRATEGY_MAX_LENGTH},
            )
        return list(dict.fromkeys(names))


class StrategyListFilter(django_filters.Filter):
    field_class = StrategyListField

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        return qs.filter(strategy__in=value) if value else qs


class SignalFilter(StrictFilterSet):
    """Filters of the list, feed and stats (ordering belongs to the list only)."""

    pair = PairListFilter(help_text="One pair, or several comma separated.")
    timeframe = django_filters.ChoiceFilter(choices=Timeframe.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    status = django_filters.ChoiceFilter(choices=Status.choices)
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    min_confidence = django_filters.NumberFilter(
        field_name="confidence", lookup_expr="gte"
    )
    max_confidence = django_filters.NumberFilter(
        field_name="confidence", lookup_expr="lte"
    )
    since = SinceFilter(
        field_name="timestamp", help_text="timestamp ≥ since (inclusive)."
    )
    until = UntilFilter(
        field_name="timestamp", help_text="timestamp ≤ until (inclusive)."
    )
    strategy = StrategyListFilter(
        help_text="One strategy name, or several comma separated (each ≤ 50 chars)."
    )

    class Meta:
        model = Signal
        fields: list[str] = []


class SignalListFilter(SignalFilter):
    ordering = django_filters.OrderingFilter(
        fields=(("timestamp", "timestamp"), ("confidence", "confidence")),
        help_text="timestamp, -timestamp, confidence, -confidence; default -timestamp",
    )

    def is_valid(self) -> bool:
        valid = super().is_valid()
        # django-filter lets empty items of a comma list through ("ordering=,").
        if valid and not all(self.form.cleaned_data.get("ordering") or ["x"]):
            self.form.add_error("ordering", "Empty item in the comma separated list.")
            valid = False
        return valid

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        ordering = self.form.cleaned_data.get("ordering")
        if ordering:
            # A unique tie-breaker keeps pages stable when values repeat.
            tie = "id" if ordering[0].lstrip("-") == ordering[0] else "-id"
            queryset = queryset.order_by(*ordering, tie)
        return queryset


# The filters `simple_filter` applies itself, in SignalFilter's order, with their
# valid values (None: a pair list, every item a pair).
SIMPLE_FILTERS: dict[str, frozenset[str] | None] = {
    "pair": None,
    "timeframe": frozenset(Timeframe.values),
    "direction": frozenset(Direction.values),
    "status": frozenset(Status.values),
    "outcome": frozenset(Outcome.values),
}
PAGE_PARAMETERS = frozenset({"page", "page_size", "cursor"})


def simple_values(params: Any) -> dict[str, Any] | None:
    """The filter values of a query `simple_filter` can apply, as SignalFilter's
    cleaned data would hold them (pairs as a list); None for any other query."""
    for name, values in params.lists():
        if len(values) != 1 or (
            name not in SIMPLE_FILTERS and name not in PAGE_PARAMETERS
        ):
            return None
    found: dict[str, Any] = {}
    for name, allowed in SIMPLE_FILTERS.items():
        value = params.get(name)
        if value is None:
            continue
        if allowed is None:
            pairs = pair_list(value)
            if pairs_invalid(pairs):  # an empty value too
                return None
            found[name] = pairs
        elif value in allowed:
            found[name] = value
        else:
            return None
    return found


def simple_filter(params: Any, queryset: QuerySet) -> QuerySet | None:
    """The queryset filtered as SignalFilter/SignalListFilter would filter it, when
    every parameter is a valid pair list or choice (or a page parameter); else None,
    and the FilterSet decides (and names what is wrong). Building and validating the
    FilterSet's form costs about 1 ms a request, as much as reading a page of rows.
    """
    values = simple_values(params)
    if values is None:
        return None
    for name, value in values.items():
        lookup = "pair__in" if name == "pair" else f"{name}__exact"
        queryset = queryset.filter(**{lookup: value})
    return queryset
