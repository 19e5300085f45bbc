"""Changelist parts the apps' admins share: counts of big tables, the pair filter."""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """Unfiltered changelists of big tables use the row estimate, not COUNT(*)."""

    @cached_property
    def count(self) -> int:
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > 10000:
                return row[0]
        return super().count


class PairFilter(admin.SimpleListFilter):
    """The configured pairs, without a DISTINCT over the whole table."""

    title = "pair"
    parameter_name = "pair"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(pair, pair) for pair in settings.SIGNAL_PAIRS]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(pair=self.value()) if self.value() else queryset
