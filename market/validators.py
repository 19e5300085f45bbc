import re
from collections.abc import Iterable

from django.core.validators import RegexValidator

PAIR_REGEX = r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$"
pair_validator = RegexValidator(
    PAIR_REGEX, "Pair must be upper-case BASE/QUOTE, for example EUR/USD."
)
PAIR_PATTERN = re.compile(PAIR_REGEX)


def pair_list(text: str) -> list[str]:
    """The items of a comma-separated list of pairs, stripped, not yet checked."""
    return [item.strip() for item in text.split(",")]


def pairs_invalid(pairs: Iterable[str]) -> list[str]:
    """The items that are not pairs."""
    return [pair for pair in pairs if not PAIR_PATTERN.match(pair)]
