from typing import Any

from django.db import IntegrityError
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from api.bulk import (
    BulkCreateResultSerializer,
    BulkErrorSerializer,
    bulk_error_response,
    bulk_items,
    indexed,
)
from api.caching import cached_response
from api.errors import conflict
from api.pagination import PagePagination

from . import services
from .cache_versions import journal_namespace
from .exports import export_lines
from .filters import JournalEntryFilter, JournalStatsFilter
from .import_serializers import (
    ImportCreateSerializer,
    ImportQueuedSerializer,
    ImportSerializer,
)
from .imports import import_create
from .models import Account, Import, JournalEntry
from .serializers import (
    AccountSerializer,
    JournalEntrySerializer,
    JournalStatsSerializer,
)


def own_namespace(request: Request) -> str:
    return journal_namespace(request.user.id)


@extend_schema_view(
    list=extend_schema(summary="Own journal entries, newest opened_at first"),
    retrieve=extend_schema(summary="One own journal entry"),
    create=extend_schema(
        summary="Create a journal entry", responses={201: JournalEntrySerializer}
    ),
    partial_update=extend_schema(
        summary="Change some fields of an own entry",
        responses={
            200: JournalEntrySerializer,
            409: OpenApiResponse(description="A concurrent write conflicts; retry."),
        },
    ),
    destroy=extend_schema(summary="Delete an own entry"),
)
class JournalEntryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A user's private trade journal: nobody else's entries exist here (404)."""

    serializer_class = JournalEntrySerializer
    permission_classes = [IsAuthenticated]
    pagination_class = PagePagination
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    @property
    def filterset_class(self) -> type | None:
        if self.action == "stats":
            return JournalStatsFilter
        return JournalEntryFilter if self.action in ("list", "export") else None

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema has no user
            return JournalEntry.objects.none()
        entries = JournalEntry.objects.for_owner(self.request.user)
        return entries.for_api() if self.action in ("list", "retrieve") else entries

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The export is CSV whatever the client accepts.
        return super().perform_content_negotiation(
            request, force=force or self.action == "export"
        )

    @cached_response(own_namespace)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @cached_response(own_namespace)
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def create(self, request: Request) -> Response:
        serializer = JournalEntrySerializer(
            data=request.data, context={"owner_id": request.user.id}
        )
        serializer.is_valid(raise_exception=True)
        entry = services.entry_create(
            owner_id=request.user.id, data=serializer.validated_data
        )
        return Response(
            JournalEntrySerializer(entry).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        entry = self.get_object()
        serializer = JournalEntrySerializer(
            entry,
            data=request.data,
            partial=True,
            context={"owner_id": request.user.id},
        )
        serializer.is_valid(raise_exception=True)
        try:
            entry = services.entry_update(entry=entry, data=serializer.validated_data)
        except JournalEntry.DoesNotExist:
            raise NotFound() from None  # deleted meanwhile
        except IntegrityError:
            return conflict()
        return Response(JournalEntrySerializer(entry).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.entry_delete(entry=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Statistics over own entries",
        filters=True,
        responses=JournalStatsSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    @cached_response(own_namespace)
    def stats(self, request: Request) -> Response:
        entries = self.filter_queryset(self.get_queryset())
        return Response(entries.stats())

    @extend_schema(
        operation_id="api_journal_export_csv",
        summary="Own entries as CSV (the list's filters), streamed",
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="A header row of field names, then one row an entry.",
            )
        },
    )
    def export(self, request: Request) -> StreamingHttpResponse:
        entries = self.filter_queryset(self.get_queryset())
        response = StreamingHttpResponse(
            export_lines(entries), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="journal.csv"'
        return response

    @extend_schema(
        summary="Import a list of entries, all or nothing",
        request=JournalEntrySerializer(many=True),
        responses={201: BulkCreateResultSerializer, 400: BulkErrorSerializer},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        items = bulk_items(request)
        signals = services.entry_signals_find(items=items)
        accounts = Account.objects.for_owner(request.user).in_bulk()
        serializer = JournalEntrySerializer(
            data=items,
            many=True,
            context={"signals": signals, "accounts": accounts},
        )
        if not serializer.is_valid():
            return bulk_error_response(indexed(serializer.errors))
        created = services.entries_bulk_create(
            owner_id=request.user.id, items=serializer.validated_data
        )
        ids = [entry.pk for entry in created]
        return Response(
            {"created": len(ids), "ids": ids}, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    list=extend_schema(summary="Own trading accounts, oldest first"),
    retrieve=extend_schema(summary="One own account"),
    create=extend_schema(
        summary="Create an account", responses={201: AccountSerializer}
    ),
    partial_update=extend_schema(summary="Change some fields of an own account"),
    destroy=extend_schema(
        summary="Delete an own account that has no entries",
        responses={
            204: None,
            409: OpenApiResponse(description="The account still has entries."),
        },
    ),
)
class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A user's trading accounts: nobody else's exist here (404)."""

    serializer_class = AccountSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = PagePagination
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        return Account.objects.for_owner(self.request.user).order_by("id")

    def create(self, request: Request) -> Response:
        serializer = AccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.account_create(
            owner_id=request.user.id, data=serializer.validated_data
        )
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        account = self.get_object()
        serializer = AccountSerializer(account, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        account = services.account_update(
            account=account, data=serializer.validated_data
        )
        return Response(AccountSerializer(account).data)

    def destroy(self, request: Request, pk: str) -> Response:
        try:
            services.account_delete(account=self.get_object())
        except services.AccountInUse:
            return Response(
                {"detail": "The account has entries: delete or move them first."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(
        summary="Import a file of trades into an own account",
        request={"multipart/form-data": ImportCreateSerializer},
        responses={202: ImportQueuedSerializer},
    ),
    retrieve=extend_schema(summary="How an own import is going"),
)
class ImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A user's imports: nobody else's exist here (404)."""

    serializer_class = ImportSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Import.objects.none()
        return Import.objects.filter(owner=self.request.user).defer("content")

    def create(self, request: Request) -> Response:
        serializer = ImportCreateSerializer(
            data=request.data, context={"owner_id": request.user.id}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = import_create(
            owner_id=request.user.id,
            account=data["account"],
            format=data["format"],
            content=data["file"].read(),
            mapping=data.get("mapping"),
            atomic=data["atomic"],
        )
        return Response(
            ImportQueuedSerializer(job).data, status=status.HTTP_202_ACCEPTED
        )
