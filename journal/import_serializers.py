"""Input and output shapes of imports (POST /api/journal/import/ and its status)."""

import json
from typing import Any

from rest_framework import serializers

from .models import Import
from .parsers import FORMATS
from .serializers import AccountField

IMPORT_FORMATS = FORMATS  # the formats journal.parsers reads


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField()
    account = AccountField()
    format = serializers.ChoiceField(choices=IMPORT_FORMATS)
    mapping = serializers.JSONField(
        required=False,
        help_text='csv: our field → the file\'s column, e.g. {"pair": "Symbol"}.',
    )
    atomic = serializers.BooleanField(
        default=True, help_text="true: any refused row writes nothing."
    )

    def validate_mapping(self, value: Any) -> dict[str, str]:
        if isinstance(value, str):  # a multipart field arrives as text
            try:
                value = json.loads(value)
            except ValueError:
                raise serializers.ValidationError("Not JSON.") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise serializers.ValidationError(
                "An object of our field names to the file's column names."
            )
        return value


class ImportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Import
        fields = ("id", "status", "progress", "created", "skipped", "refused", "error")
        read_only_fields = fields


class ImportQueuedSerializer(serializers.ModelSerializer):
    class Meta:
        model = Import
        fields = ("id", "status")
        read_only_fields = fields
