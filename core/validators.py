"""Checks that a value can be stored as it is, shared by every write path.

The API's serializers, the admin's forms and the services behind the commands call
these before writing, so a value the database would refuse (a derived number past
its column, a NUL that PostgreSQL's jsonb cannot hold) is a named 400 or a form
error, never a DataError and a 500.
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

NUL_MESSAGE = "Must not contain the NUL character (\\u0000), in a key or a value."


def json_has_nul(value: Any) -> bool:
    """Whether a JSON value holds a NUL character in any string or object key."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and "\x00" in key:
                    return True
                stack.append(child)
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def validate_json_without_nul(value: Any) -> None:
    """A field validator: PostgreSQL's jsonb refuses NUL in strings and keys."""
    if json_has_nul(value):
        raise ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")


def _below_limit(magnitude: Decimal, max_digits: int, places: int) -> bool:
    """Whether a magnitude, rounded to `places`, stays within `max_digits`."""
    limit = Decimal(10) ** (max_digits - places)
    # The largest magnitude that still rounds below the limit.
    return magnitude < limit - Decimal(5).scaleb(-(places + 1))


def decimal_fits(field: models.DecimalField, value: Decimal) -> bool:
    """Whether `value`, rounded to the column's places, fits its max_digits."""
    return _below_limit(abs(value), field.max_digits, field.decimal_places)


def overflow_message(field: models.DecimalField) -> str:
    digits = field.max_digits - field.decimal_places
    return (
        f"Gives a {field.name} that does not fit its column "
        f"(at most {digits} digits before the point)."
    )


def float_storable(field_max_digits: int, field_places: int, value: Decimal) -> bool:
    """Whether `value` survives a trip through a binary float (SQLite keeps decimal
    columns as REAL) without rounding past its column: a value within a float's
    precision of the limit would be read back as one the column cannot hold."""
    return _below_limit(abs(Decimal(float(value))), field_max_digits, field_places)
