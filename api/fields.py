"""Serializer fields the apps' input shapes share."""

from decimal import Decimal
from typing import Any

from django.db import models
from rest_framework import serializers

from core.validators import float_storable


class StrictCharField(serializers.CharField):
    """Text, and only text: DRF's CharField would store a number given for it (0 as
    "0"), where the schema promises a string and a client sent something else."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StoredDecimalField(serializers.DecimalField):
    """A DecimalField that also refuses values so close to the column's limit that
    the embedded SQLite (which keeps decimals as binary floats) would round them
    past it, and fail to read them back."""

    default_error_messages = {
        "unstorable": "Ensure this value is below {limit} by more than rounding."
    }

    def to_internal_value(self, data: Any) -> Decimal:
        value = super().to_internal_value(data)
        if (
            value is not None
            and self.max_digits is not None
            and self.decimal_places is not None
            and not float_storable(self.max_digits, self.decimal_places, value)
        ):
            self.fail("unstorable", limit=10 ** (self.max_digits - self.decimal_places))
        return value


# For a ModelSerializer's `serializer_field_mapping`: text columns take text only,
# decimal columns only what they can store.
STRICT_FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.CharField: StrictCharField,
    models.TextField: StrictCharField,
    models.DecimalField: StoredDecimalField,
}
