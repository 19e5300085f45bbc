"""Filter building blocks every list uses: pair lists, instants, strict FilterSets."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field

from .vocabulary import pair_list, pairs_invalid


class PairListField(forms.CharField):
    """One pair or several, comma separated; each must match the pair regex."""

    def clean(self, value: Any) -> list[str] | None:
        value = super().clean(value)
        if not value:
            return None
        pairs = pair_list(value)
        bad = pairs_invalid(pairs)
        if bad:
            # Passed as a parameter: a "%" in the client's text must not be formatted.
            raise forms.ValidationError(
                "Not a valid pair (upper-case BASE/QUOTE such as EUR/USD): %(pairs)s",
                params={"pairs": ", ".join(bad)},
            )
        return pairs


@extend_schema_field(
    {
        "type": "string",
        "minLength": 1,
        "pattern": r"^\s*[A-Z0-9]{2,12}/[A-Z0-9]{2,12}\s*"
        r"(,\s*[A-Z0-9]{2,12}/[A-Z0-9]{2,12}\s*)*$",
        "description": "One pair (BASE/QUOTE, upper case), or several comma separated.",
        "example": "EUR/USD,GBP/USD",
    }
)
class PairListFilter(django_filters.Filter):
    field_class = PairListField

    def filter(self, qs: QuerySet, value: list[str] | None) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class InstantField(forms.CharField):
    """An ISO 8601 date-time (naive means UTC) or a plain date."""

    def __init__(self, *args: Any, end_of_day: bool = False, **kwargs: Any) -> None:
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> datetime | None:
        value = super().clean(value)
        if not value:
            return None
        try:
            day = parse_date(value) if len(value) == 10 else None
            # An unencoded "+01:00" offset arrives as " 01:00".
            moment = (
                None
                if day
                else (parse_datetime(value) or parse_datetime(value.replace(" ", "+")))
            )
        except ValueError:
            moment = day = None
        if day is not None:
            moment = datetime.combine(day, time.min)
            if self.end_of_day:
                moment += timedelta(days=1) - timedelta(microseconds=1)
        if moment is None:
            raise forms.ValidationError(
                "Not a valid ISO 8601 date or date-time, e.g. 2026-01-05T14:00:00Z."
            )
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        return moment


@extend_schema_field(
    {
        "type": "string",
        "description": "ISO 8601 date-time (naive means UTC) or date (YYYY-MM-DD).",
        "example": "2026-01-05T14:00:00Z",
    }
)
class InstantFilter(django_filters.Filter):
    field_class = InstantField


class SinceFilter(InstantFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, lookup_expr="gte", **kwargs)


class UntilFilter(InstantFilter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, lookup_expr="lte", end_of_day=True, **kwargs)


class StrictFilterSet(django_filters.FilterSet):
    """A filter parameter given with an empty value is a 400, not silently ignored."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and not self.data.get(name, "").strip():
                self.form.add_error(name, "Must not be empty; leave the parameter out.")
                valid = False
        return valid
