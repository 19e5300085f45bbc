"""Logins: the token endpoint and the admin login page, under the same limits."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from api.throttling import client_ip

from .login_limits import login_failed, login_refusal, login_succeeded

TOKEN_REQUEST = inline_serializer(
    "TokenRequest",
    {"username": serializers.CharField(), "password": serializers.CharField()},
)
TOKEN_RESPONSE = inline_serializer("Token", {"token": serializers.CharField()})


def _username(data: Any) -> str:
    value = data.get("username") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


class TokenView(ObtainAuthToken):
    """`{"username", "password"}` in JSON → `{"token"}`; guessing is limited."""

    parser_classes = [JSONParser]
    throttle_classes: list = []  # login_refusal counts every attempt itself

    @extend_schema(
        summary="Exchange a username and password for an API token",
        request=TOKEN_REQUEST,
        responses={
            200: TOKEN_RESPONSE,
            400: OpenApiResponse(description="Wrong credentials or a malformed body."),
            429: OpenApiResponse(
                description=(
                    "Too many attempts from this address this minute, or too many "
                    "failures in a row for this username; see Retry-After."
                )
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        username = _username(request.data)
        refusal = login_refusal(
            client_ip=client_ip(request.META), username=username, meta=request.META
        )
        if refusal:
            raise Throttled(wait=refusal.retry_after, detail=refusal.detail)
        serializer = AuthTokenSerializer(
            data=request.data, context={"request": request}
        )
        if not serializer.is_valid():
            login_failed(username=username)
            raise ValidationError(serializer.errors)
        login_succeeded(username=username)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


def admin_login(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """The admin's own login page, counted by the same limits as the token endpoint."""
    if request.method != "POST":
        return admin.site.login(request, **kwargs)
    username = request.POST.get("username", "")
    refusal = login_refusal(
        client_ip=client_ip(request.META), username=username, meta=request.META
    )
    if refusal:
        response = HttpResponse(
            refusal.detail, status=429, content_type="text/plain; charset=utf-8"
        )
        response["Retry-After"] = str(refusal.retry_after)
        return response
    response = admin.site.login(request, **kwargs)
    signed_in = (
        response.status_code == 302
        and request.user.is_authenticated
        and request.user.get_username() == username
    )
    (login_succeeded if signed_in else login_failed)(username=username)
    return response
