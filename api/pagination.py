"""Page-number and keyset pagination with the contract's bodies and 400s."""

from collections import OrderedDict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.paginator import InvalidPage, Page
from django.db.models import Q, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_SALT = "alphaforge.feed.cursor"


def _positive_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or not raw.strip().isdigit():
        raise ValidationError({name: [f"{name} must be a positive integer."]})
    return value


def page_size(request: Request) -> int:
    """The requested page size, capped at MAX_PAGE_SIZE; 400 when not a positive int."""
    requested = _positive_int(request, "page_size", settings.DEFAULT_PAGE_SIZE)
    return min(requested, settings.MAX_PAGE_SIZE)


def page_schema(results_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["count", "page", "page_size", "total_pages", "results"],
        "properties": {
            "count": {"type": "integer"},
            "page": {"type": "integer"},
            "page_size": {"type": "integer"},
            "total_pages": {"type": "integer"},
            "has_next": {"type": "boolean"},
            "has_previous": {"type": "boolean"},
            "next": {"type": "string", "format": "uri", "nullable": True},
            "previous": {"type": "string", "format": "uri", "nullable": True},
            "results": results_schema,
        },
    }


class PagePagination(PageNumberPagination):
    """`page`/`page_size` pages; a bad number is a 400, a page past the last a 404.

    The page is read first: when it is not full, it tells the count itself
    (offset + its rows) and no COUNT runs. Otherwise the count is
    `view.page_count(queryset)` when the view has one (a view that can answer the
    count of its filters more cheaply than a COUNT over the rows, e.g. from a
    rollup), else the queryset's COUNT.
    """

    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        return page_size(request)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """DRF's two parameters, with the bound the server enforces (≥ 1)."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list:
        size = self.get_page_size(request)
        number = _positive_int(request, "page", 1)
        offset = (number - 1) * size
        # An offset no table reaches (and no database takes): past the last page.
        rows = list(queryset[offset : offset + size]) if offset < 2**62 else []
        paginator = self.django_paginator_class(queryset, size)
        if len(rows) < size and (rows or number == 1):
            paginator.count = offset + len(rows)
        elif rows:
            counter = getattr(view, "page_count", None)
            paginator.count = counter(queryset) if counter else queryset.count()
        else:
            paginator.count = 0  # past the last page, whatever the count
        try:
            paginator.validate_number(number)
        except InvalidPage:
            raise NotFound(
                {"page": [f"Page {number} is past the last page."]}
            ) from None
        self.page = Page(rows, number, paginator)
        self.request = request
        return rows

    def get_paginated_response(self, data: list) -> Response:
        return Response(
            OrderedDict(
                count=self.page.paginator.count,
                page=self.page.number,
                page_size=self.page.paginator.per_page,
                total_pages=self.page.paginator.num_pages,
                has_next=self.page.has_next(),
                has_previous=self.page.has_previous(),
                next=self.get_next_link(),
                previous=self.get_previous_link(),
                results=data,
            )
        )

    def get_previous_link(self) -> str | None:
        if not self.page.has_previous():
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.page.number - 1)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return page_schema(schema)


class KeysetPagination(BasePagination):
    """Newest-first keyset pages on (timestamp, id): the same cost at any depth.

    The cursor is a signed, opaque token of the boundary row and the direction; a
    tampered one is a 400.
    """

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list:
        self.request = request
        size = page_size(request)
        raw = request.query_params.get("cursor")
        forward, boundary = True, None
        if raw is not None:
            try:
                stamp, pk, direction = signing.loads(raw, salt=CURSOR_SALT)
                boundary = (datetime.fromisoformat(stamp), int(pk))
                forward = direction == "n"
            except (signing.BadSignature, ValueError, TypeError):
                raise ValidationError({"cursor": ["Invalid cursor."]}) from None
        rows = list(self.window(queryset, boundary, forward)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if not forward:
            rows.reverse()
        self.has_next = bool(rows) and (more if forward else True)
        self.has_previous = bool(rows) and (boundary is not None if forward else more)
        return rows

    @staticmethod
    def window(
        queryset: QuerySet, boundary: tuple[datetime, int] | None, forward: bool
    ) -> QuerySet:
        """Rows past the boundary in walking order, read from a (timestamp, id) index.

        `timestamp <= t` is the index condition that starts the scan at the cursor;
        the OR only skips the rows of the boundary's own timestamp already served.
        """
        if boundary is None:
            return queryset.order_by("-timestamp", "-id")
        stamp, pk = boundary
        if forward:
            return (
                queryset.filter(timestamp__lte=stamp)
                .filter(Q(timestamp__lt=stamp) | Q(id__lt=pk))
                .order_by("-timestamp", "-id")
            )
        return (
            queryset.filter(timestamp__gte=stamp)
            .filter(Q(timestamp__gt=stamp) | Q(id__gt=pk))
            .order_by("timestamp", "id")
        )

    def _link(self, item: Any, direction: str) -> str:
        """A cursor at the answer's item: a model instance or a dict of its form
        (`timestamp` a datetime or its ISO text, and `id`)."""
        if isinstance(item, dict):
            stamp, pk = item["timestamp"], item["id"]
        else:
            stamp, pk = item.timestamp, item.pk
        if not isinstance(stamp, str):
            stamp = stamp.isoformat()
        token = signing.dumps([stamp, pk, direction], salt=CURSOR_SALT)
        url = remove_query_param(self.request.build_absolute_uri(), "page")
        return replace_query_param(url, "cursor", token)

    def get_paginated_response(self, data: list) -> Response:
        return Response(
            OrderedDict(
                next=self._link(data[-1], "n") if self.has_next else None,
                previous=self._link(data[0], "p") if self.has_previous else None,
                results=data,
            )
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "Opaque cursor from a previous answer's next/previous.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "description": "Items per page, capped at MAX_PAGE_SIZE.",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
