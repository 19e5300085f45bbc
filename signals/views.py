from typing import Any

from django.db import IntegrityError
from django.http import Http404
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from api.bulk import (
    BulkCreateResultSerializer,
    BulkErrorSerializer,
    bulk_error_response,
    bulk_items,
)
from api.caching import cached_response
from api.errors import conflict
from api.pagination import KeysetPagination, PagePagination
from api.permissions import ReadAnyoneWriteStaffOrPermitted
from api.renderers import with_fast_json

from . import services
from .bulk_validation import bulk_create_validate
from .filters import SignalFilter, SignalListFilter, simple_filter, simple_values
from .models import Signal
from .serializers import (
    BulkUpdateResultSerializer,
    GenerateRequestSerializer,
    GenerateResultSerializer,
    SignalBulkUpdateItemSerializer,
    SignalBulkUpdateSerializer,
    SignalFeedSerializer,
    SignalListSerializer,
    SignalSerializer,
    SignalStatsSerializer,
)
from .storage.forms import detail_form, detail_row, minimal_forms


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
    # orjson for JSON answers; the browsable API renders the same data.
    renderer_classes = with_fast_json(api_settings.DEFAULT_RENDERER_CLASSES)
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
        return Signal.objects.all()

    def filter_queryset(self, queryset: Any) -> Any:
        filtered = simple_filter(self.request.query_params, queryset)
        return super().filter_queryset(queryset) if filtered is None else filtered

    def page_count(self, queryset: Any) -> int:
        """The count of a full page: from the stats rollup when it can tell (a
        few rows summed, not a COUNT over every matching signal), else counted."""
        filters = simple_values(self.request.query_params)
        if filters is None:
            return queryset.count()
        return queryset.filtered_count(filters=filters)

    def get_serializer_class(self) -> type:
        return (
            SignalListSerializer
            if self.action in ("list", "feed")
            else SignalSerializer
        )

    @cached_response()
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._minimal_page(request)

    @cached_response()
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        row = detail_row(int(kwargs["pk"]))
        if row is None:
            raise Http404("No Signal matches the given query.")
        return Response(detail_form(row))

    def _minimal_page(self, request: Request) -> Response:
        """A page of minimal forms from the filtered rows' columns (no instances)."""
        queryset = self.filter_queryset(self.get_queryset()).for_list()
        rows = self.paginate_queryset(queryset)
        return self.get_paginated_response(minimal_forms(rows))

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
    @cached_response()
    def feed(self, request: Request) -> Response:
        return self._minimal_page(request)

    @extend_schema(
        summary="Aggregates over the filtered signals",
        filters=True,
        responses=SignalStatsSerializer,
    )
    @action(detail=False, methods=["get"])
    @cached_response()
    def stats(self, request: Request) -> Response:
        filterset = SignalFilter(request.query_params, queryset=Signal.objects.all())
        if not filterset.is_valid():  # the 400 the filter backend gives elsewhere
            raise translate_validation(filterset.errors)
        return Response(filterset.qs.stats(filters=filterset.form.cleaned_data))

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
        # Imported here: the generator and numpy load in the web process only once
        # it generates, so workers that only serve reads stay small.
        from .generation import signals_generate

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
        validated, errors = bulk_create_validate(items)  # SignalSerializer(many=True)
        if errors:
            return bulk_error_response(errors)
        try:
            created = services.signals_bulk_create(items=validated)
        except services.BulkError as error:
            return bulk_error_response(error.errors)
        ids = [signal.pk for signal in created]
        return Response(
            {"created": len(ids), "ids": ids}, status=status.HTTP_201_CREATED
        )

    def _bulk_update(self, items: list) -> Response:
        body = SignalBulkUpdateSerializer(items)
        if not body.is_valid():
            return bulk_error_response(body.errors)
        try:
            updated = services.signals_bulk_update(changes=body.changes)
        except services.BulkError as error:
            return bulk_error_response(body.request_errors(error.errors))
        except IntegrityError:
            return conflict()
        return Response({"updated": updated})
