"""Serializer fields shared by the apps' input shapes."""

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from .validators import float_storable


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
