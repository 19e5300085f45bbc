import logging
import uuid

from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

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
