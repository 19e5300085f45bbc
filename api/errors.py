"""JSON bodies for errors Django answers outside DRF (unknown paths, crashes)."""

from django.http import HttpRequest, JsonResponse
from rest_framework import status
from rest_framework.response import Response


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error."}, status=500)


def bad_request(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return JsonResponse({"detail": "Permission denied."}, status=403)


def conflict() -> Response:
    """409: a concurrent write took what this one needed; the client retries."""
    return Response(
        {"detail": "A concurrent change conflicts with this write; retry."},
        status=status.HTTP_409_CONFLICT,
    )
