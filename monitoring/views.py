import logging
import uuid
from hmac import compare_digest

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from .metrics import metrics_snapshot, registry

logger = logging.getLogger(__name__)

status_schema = inline_serializer(
    "ServiceStatus",
    {
        "status": serializers.CharField(),
        "database": serializers.CharField(required=False),
        "cache": serializers.CharField(required=False),
    },
)


@extend_schema(summary="Liveness", responses={200: status_schema})
@api_view(["GET"])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request: Request) -> Response:
    return Response({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("readiness: database unavailable", exc_info=True)
        return False


def _cache_ok() -> bool:
    probe = uuid.uuid4().hex
    try:
        cache.set("ready:probe", probe, 10)
        return cache.get("ready:probe") == probe
    except Exception:
        logger.warning("readiness: cache unavailable", exc_info=True)
        return False


@extend_schema(
    summary="Readiness: database and cache answer",
    responses={200: status_schema, 503: status_schema},
)
@api_view(["GET"])
@permission_classes([AllowAny])
@throttle_classes([])
def ready(request: Request) -> Response:
    parts = {"database": _database_ok(), "cache": _cache_ok()}
    body = {name: "ok" if ok else "unavailable" for name, ok in parts.items()}
    failed = [name for name, ok in parts.items() if not ok]
    body["status"] = "ok" if not failed else f"unavailable: {', '.join(failed)}"
    return Response(body, status=503 if failed else 200)


class MetricsAccess(BasePermission):
    """Staff, or `Authorization: Bearer <METRICS_TOKEN>` when a token is set."""

    def has_permission(self, request: Request, view: object) -> bool:
        if request.user and request.user.is_staff:
            return True
        token = settings.METRICS_TOKEN
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, given = header.partition(" ")
        return (
            bool(token)
            and scheme.lower() == "bearer"
            and compare_digest(given.strip().encode(), token.encode())
        )


@extend_schema(
    summary="Request, cache and system figures across all server workers",
    responses={200: OpenApiTypes.OBJECT},
)
@api_view(["GET"])
@permission_classes([MetricsAccess])
@throttle_classes([])
def metrics_json(request: Request) -> Response:
    return Response(metrics_snapshot())


@extend_schema(
    summary="Prometheus text format",
    responses={(200, "text/plain"): OpenApiTypes.STR},
)
@api_view(["GET"])
@permission_classes([MetricsAccess])
@throttle_classes([])
def metrics_prometheus(request: Request) -> HttpResponse:
    text = generate_latest(registry())
    return HttpResponse(text, content_type=CONTENT_TYPE_LATEST)
