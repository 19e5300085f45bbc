from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from signals.models import Backtest

from .serializers import (
    BacktestQueuedSerializer,
    BacktestRequestSerializer,
    BacktestSerializer,
)


@extend_schema_view(
    retrieve=extend_schema(summary="A backtest's status, progress and report"),
)
class BacktestViewSet(
    mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Staff only: queue a backtest (the `backtest` command's options) and poll it."""

    queryset = Backtest.objects.all()
    serializer_class = BacktestSerializer
    permission_classes = [IsAdminUser]
    lookup_value_regex = r"\d+"
    pagination_class = None

    @extend_schema(
        summary="Queue a backtest",
        request=BacktestRequestSerializer,
        responses={202: BacktestQueuedSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        options = BacktestRequestSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        # Imported here: the backtest and numpy load only in a process that runs one.
        from .services import backtest_create

        backtest = backtest_create(options=options.validated_data, user=request.user)
        return Response(
            {"id": backtest.pk, "status": backtest.status},
            status=status.HTTP_202_ACCEPTED,
        )
