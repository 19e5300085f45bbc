from typing import Any

from django.conf import settings
from django.db import IntegrityError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from . import services
from .caching import SIGNALS_NAMESPACE, cached_response
from .filters import SignalFilter, SignalListFilter
from .generation import signals_generate
from .models import Signal
from .pagination import KeysetPagination, PagePagination
from .permissions import ReadAnyoneWriteStaffOrPermitted
from .serializers import (
    BulkCreateResultSerializer,
    BulkErrorSerializer,
    BulkUpdateResultSerializer,
    GenerateRequestSerializer,
    GenerateResultSerializer,
    SignalBulkUpdateItemSerializer,
    SignalFeedSerializer,
    SignalListSerializer,
    SignalSerializer,
    SignalStatsSerializer,
)

signals_namespace = lambda request: SIGNALS_NAMESPACE  # noqa: E731


def bulk_items(request: Request) -> list:
    """The body of a bulk request: a non-empty JSON list within BULK_MAX_ITEMS.

    A body that is not such a list (or not JSON at all) is refused in the same
    `errors` shape as invalid items, under `non_field_errors` instead of an index.
    """
    try:
        data = request.data
    except ParseError as error:
        raise ValidationError(
            {"errors": {"non_field_errors": [error.detail]}}
        ) from None
    if not isinstance(data, list):
        problem = "The body must be a JSON list."
    elif not data:
        problem = "The list is empty."
    elif len(data) > settings.BULK_MAX_ITEMS:
        problem = f"At most {settings.BULK_MAX_ITEMS} items a request."
    else:
        return data
    raise ValidationError({"errors": {"non_field_errors": [problem]}})


def indexed(errors: dict[int, dict]) -> dict[str, dict]:
    return {str(index): error for index, error in errors.items()}


def bulk_error_response(errors: dict[str, dict]) -> Response:
    return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)


@extend_schema_view(
    list=extend_schema(summary="Signals, minimal form, newest first"),
    retrieve=extend_schema(summary="One signal, detail form"),
    create=extend_schema(summary="Create a signal", responses={201: SignalSerializer}),
    partial_update=extend_schema(summary="Change some fields of a signal"),
)
class SignalViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Signal.objects.all()
    permission_classes = [ReadAnyoneWriteStaffOrPermitted]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    @property
    def filterset_class(self) -> type[SignalFilter]:
        return SignalListFilter if self.action == "list" else SignalFilter

    @property
    def pagination_class(self) -> type:
        return KeysetPagination if self.action == "feed" else PagePagination

    def get_queryset(self) -> Any:
        if self.action in ("list", "feed"):
            return Signal.objects.for_list()
        return Signal.objects.all()

    def get_serializer_class(self) -> type:
        return (
            SignalListSerializer
            if self.action in ("list", "feed")
            else SignalSerializer
        )

    @cached_response(signals_namespace, public=True)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @cached_response(signals_namespace, public=True)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = SignalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            signal = services.signal_create(data=serializer.validated_data)
        except services.BulkError as error:
            raise ValidationError(error.errors["0"]) from None
        return Response(SignalSerializer(signal).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        signal = self.get_object()
        serializer = SignalSerializer(signal, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            signal = services.signal_update(
                signal=signal, data=serializer.validated_data
            )
        except services.BulkError as error:
            raise ValidationError(error.errors["0"]) from None
        return Response(SignalSerializer(signal).data)

    @extend_schema(
        summary="Signals, keyset pages for deep scrolling",
        responses=SignalFeedSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    @cached_response(signals_namespace, public=True)
    def feed(self, request: Request) -> Response:
        return super().list(request)

    @extend_schema(
        summary="Aggregates over the filtered signals",
        filters=True,
        responses=SignalStatsSerializer,
    )
    @action(detail=False, methods=["get"])
    @cached_response(signals_namespace, public=True)
    def stats(self, request: Request) -> Response:
        queryset = self.filter_queryset(Signal.objects.all())
        return Response(queryset.stats())

    @extend_schema(
        summary="Run the signal generator for pairs",
        description=(
            "Pairs are processed together; each yields at most one signal on its "
            "latest candle or is skipped with a reason. Also served at "
            "/api/signals/enhanced/generate for older clients."
        ),
        request=GenerateRequestSerializer,
        responses=GenerateResultSerializer,
    )
    @action(detail=False, methods=["post"])
    def generate(self, request: Request) -> Response:
        serializer = GenerateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = signals_generate(**serializer.validated_data)
        return Response(
            {
                "generated": SignalSerializer(result.generated, many=True).data,
                "skipped": result.skipped,
                "duration_ms": result.duration_ms,
            }
        )

    @extend_schema(
        methods=["POST"],
        summary="Create a list of signals, all or nothing",
        request=SignalSerializer(many=True),
        responses={201: BulkCreateResultSerializer, 400: BulkErrorSerializer},
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Update a list of {id, ...fields}, all or nothing",
        request=SignalBulkUpdateItemSerializer(many=True),
        responses={200: BulkUpdateResultSerializer, 400: BulkErrorSerializer},
    )
    @action(detail=False, methods=["post", "patch"], url_path="bulk")
    def bulk(self, request: Request) -> Response:
        items = bulk_items(request)
        if request.method == "POST":
            return self._bulk_create(items)
        return self._bulk_update(items)

    def _bulk_create(self, items: list) -> Response:
        serializer = SignalSerializer(data=items, many=True)
        if not serializer.is_valid():
            return bulk_error_response(indexed(serializer.errors))
        try:
            created = services.signals_bulk_create(items=serializer.validated_data)
        except services.BulkError as error:
            return bulk_error_response(error.errors)
        ids = [signal.pk for signal in created]
        return Response(
            {"created": len(ids), "ids": ids}, status=status.HTTP_201_CREATED
        )

    def _bulk_update(self, items: list) -> Response:
        errors: dict[str, dict] = {}
        wanted: dict[int, int] = {}
        for index, item in enumerate(items):
            pk = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item, dict):
                errors[str(index)] = {
                    "non_field_errors": ["Each item must be an object."]
                }
            elif isinstance(pk, bool) or not isinstance(pk, int) or not 0 < pk < 2**63:
                errors[str(index)] = {"id": ["A positive integer id is required."]}
            elif pk in wanted:
                errors[str(index)] = {
                    "id": [f"Repeats item {wanted[pk]} of this request."]
                }
            else:
                wanted[pk] = index
        stored = Signal.objects.in_bulk(list(wanted))
        changes = []
        for pk, index in wanted.items():
            if pk not in stored:
                errors[str(index)] = {"id": [f"No signal with id {pk}."]}
                continue
            data = {name: value for name, value in items[index].items() if name != "id"}
            serializer = SignalSerializer(stored[pk], data=data, partial=True)
            if serializer.is_valid():
                changes.append((pk, serializer.validated_data))
            else:
                errors[str(index)] = serializer.errors
        if errors:
            return bulk_error_response(
                dict(sorted(errors.items(), key=lambda e: int(e[0])))
            )
        try:
            updated = services.signals_bulk_update(changes=changes)
        except services.BulkError as error:
            # The service counts positions in `changes`; answer with request indexes.
            return bulk_error_response(
                {str(wanted[changes[int(k)][0]]): v for k, v in error.errors.items()}
            )
        except IntegrityError:
            return Response(
                {"detail": "A concurrent change conflicts with this update; retry."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response({"updated": updated})
