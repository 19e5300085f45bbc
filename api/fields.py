"""Serializer fields the apps' input shapes share."""

from typing import Any

from django.db import models
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """Text, and only text: DRF's CharField would store a number given for it (0 as
    "0"), where the schema promises a string and a client sent something else."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# For a ModelSerializer's `serializer_field_mapping`: text columns take text only.
STRICT_TEXT_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.CharField: StrictCharField,
    models.TextField: StrictCharField,
}
