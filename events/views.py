import re
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.vocabulary import EventType, Timeframe

from .filters import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    FilterError,
    after_from_params,
    filter_from_params,
    limit_from_params,
)
from .models import Event
from .serializers import EventGoneSerializer, EventPageSerializer, events_page_json
from .services import events_pruned_past

GONE = "Events after this id were pruned; resynchronise from the signal list."


def _names_pattern(names: list[str]) -> dict[str, Any]:
    """A comma-separated list of these names, as the filter accepts it."""
    one = r"\s*(" + "|".join(re.escape(name) for name in names) + r")\s*"
    return {"type": "string", "pattern": f"^{one}(,{one})*$"}


PAIRS = r"\s*[A-Z0-9]{2,12}/[A-Z0-9]{2,12}\s*"
PARAMETERS = [
    OpenApiParameter(
        "after",
        {"type": "integer", "minimum": 0},
        description="Events with a larger id (default 0).",
    ),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        description=f"1–{MAX_LIMIT}, default {DEFAULT_LIMIT}.",
    ),
    OpenApiParameter(
        "type",
        _names_pattern(EventType.values),
        description="signal.created, signal.updated, signal.resolved; comma separated.",
    ),
    OpenApiParameter(
        "pair",
        {"type": "string", "pattern": f"^{PAIRS}(,{PAIRS})*$"},
        description="One or several, comma separated.",
    ),
    OpenApiParameter(
        "timeframe",
        _names_pattern(Timeframe.values),
        description="One or several, comma separated.",
    ),
    OpenApiParameter(
        "min_confidence",
        {"type": "number", "minimum": 0, "maximum": 100},
        description="0–100.",
    ),
]


class EventListView(APIView):
    """The event log, read forward from `after` (throttled as the signal list)."""

    @extend_schema(
        summary="Signal events after an id, oldest first, with no gaps",
        parameters=PARAMETERS,
        responses={200: EventPageSerializer, 410: EventGoneSerializer},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            after = after_from_params(request.query_params)
            limit = limit_from_params(request.query_params)
            wanted = filter_from_params(request.query_params)
        except FilterError as error:
            return Response(error.errors, status=status.HTTP_400_BAD_REQUEST)
        oldest = events_pruned_past(after)
        if oldest is not None:
            return Response(
                {"detail": GONE, "oldest_id": oldest},
                status=status.HTTP_410_GONE,
            )
        rows = list(
            wanted.apply(Event.objects.after(after)).values_list("id", "body")[:limit]
        )
        last = rows[-1][0] if rows else after
        page = events_page_json([body for _, body in rows], last)
        return HttpResponse(page, content_type="application/json")
