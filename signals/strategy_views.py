"""GET /api/strategies/ and /api/strategies/{name}/: the registered strategies and
each one's record (public, not cached: records.strategy_records costs a constant
number of aggregate queries)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from api.renderers import with_fast_json

from .records import strategy_records
from .serializers import StrategyListSerializer, StrategySerializer
from .strategies import REGISTRY


class StrategyListView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = with_fast_json(api_settings.DEFAULT_RENDERER_CLASSES)

    @extend_schema(
        operation_id="api_strategies_list",
        summary="The registered strategies and their records",
        responses=StrategyListSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response({"results": strategy_records()})


class StrategyDetailView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = with_fast_json(api_settings.DEFAULT_RENDERER_CLASSES)

    @extend_schema(
        operation_id="api_strategies_retrieve",
        summary="One strategy and its record",
        responses=StrategySerializer,
    )
    def get(self, request: Request, name: str) -> Response:
        if name not in REGISTRY:
            raise Http404("No such strategy.")
        return Response(strategy_records([name])[0])
