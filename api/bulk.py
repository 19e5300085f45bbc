"""All-or-nothing list writes: the body's shape and the error answer."""

from django.conf import settings
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response


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
    """Errors by list position, keyed as the answer spells indexes (strings)."""
    return {str(index): error for index, error in errors.items()}


def bulk_error_response(errors: dict[str, dict]) -> Response:
    """400 `{"errors": {"<index>": {<field>: [messages]}}}`, indexes in order."""
    ordered = dict(sorted(errors.items(), key=lambda item: _position(item[0])))
    return Response({"errors": ordered}, status=status.HTTP_400_BAD_REQUEST)


def _position(key: str) -> float:
    return int(key) if key.isdigit() else -1


class BulkCreateResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


class BulkErrorSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text=(
            "Errors by the item's index in the request list; a body that is not a "
            "non-empty list within BULK_MAX_ITEMS gets `non_field_errors` instead."
        ),
    )
