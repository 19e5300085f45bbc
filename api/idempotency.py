"""Idempotent POSTs (the IETF httpapi Idempotency-Key draft, as Stripe does it).

A POST with `Idempotency-Key` claims (caller, key) in the database before the view
runs. The same key and the same request (method, path and body) from the same
caller within IDEMPOTENCY_TTL_SECONDS answers the stored status and body, with
`Idempotent-Replayed: true`, without running the view again; the same key with
another request is a 422; while the first request still runs, a 409. A caller is
the authenticated user, or the client address for anonymous calls, so another
caller's key never matches. 5xx answers and exceptions are not stored: the claim is
released and the client may retry. A claim whose request died with its process is
taken over after IDEMPOTENCY_LOCK_SECONDS.
"""

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from .models import IdempotencyRecord
from .throttling import client_ip

HEADER = "HTTP_IDEMPOTENCY_KEY"
REPLAYED = "Idempotent-Replayed"


def key_error(key: str) -> str | None:
    """Why an Idempotency-Key value is refused, or None."""
    if not 1 <= len(key) <= 255 or not all(" " <= char <= "~" for char in key):
        return "Idempotency-Key must be 1 to 255 printable ASCII characters."
    return None


def caller_of(request: HttpRequest) -> str | None:
    """ "user:<id>" by the API's own authentication, "ip:<address>" when anonymous,
    None when the credentials are refused (the view answers that itself)."""
    drf_request = Request(
        request,
        authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES],
    )
    try:
        user = drf_request.user
    except APIException:
        return None
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request.META)}"


def fingerprint_of(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path()):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _claim(caller: str, key: str, fingerprint: str) -> IdempotencyRecord | HttpResponse:
    """The new claim on (caller, key), or the answer its earlier use dictates."""
    now = timezone.now()
    fields = {
        "fingerprint": fingerprint,
        "status": None,
        "content_type": "",
        "body": b"",
        "created_at": now,
        "expires_at": now + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS),
    }
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(caller=caller, key=key, **fields)
    except IntegrityError:
        pass
    with transaction.atomic():
        record = (
            IdempotencyRecord.objects.select_for_update()
            .filter(caller=caller, key=key)
            .first()
        )
        if record is None:  # expired and pruned meanwhile
            return _claim(caller, key, fingerprint)
        stale = timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS)
        if record.expires_at <= now or (
            record.status is None and record.created_at <= now - stale
        ):
            IdempotencyRecord.objects.filter(pk=record.pk).update(**fields)
            record.__dict__.update(fields)
            return record
    if record.fingerprint != fingerprint:
        return _error(
            422,
            "This Idempotency-Key was used with a different request; "
            "use a new key for a new request.",
        )
    if record.status is None:
        response = _error(
            409, "A request with this Idempotency-Key is still being processed."
        )
        response["Retry-After"] = "1"
        return response
    response = HttpResponse(
        bytes(record.body), status=record.status, content_type=record.content_type
    )
    response[REPLAYED] = "true"
    return response


class IdempotencyMiddleware:
    """Applies Idempotency-Key to every POST (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if key is None or request.method != "POST":
            return self.get_response(request)
        problem = key_error(key)
        if problem:
            return JsonResponse({"Idempotency-Key": [problem]}, status=400)
        caller = caller_of(request)
        if caller is None:
            return self.get_response(request)
        claimed = _claim(caller, key, fingerprint_of(request))
        if isinstance(claimed, HttpResponse):
            return claimed
        try:
            response = self.get_response(request)
        except BaseException:
            claimed.delete()
            raise
        if response.status_code >= 500 or response.streaming:
            claimed.delete()
            return response
        IdempotencyRecord.objects.filter(pk=claimed.pk).update(
            status=response.status_code,
            content_type=response.get("Content-Type", ""),
            body=response.content,
        )
        return response


def idempotency_prune() -> int:
    """Delete the records past their expiry; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(
        expires_at__lte=timezone.now()
    ).delete()
    return deleted
