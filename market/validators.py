from django.core.validators import RegexValidator

PAIR_REGEX = r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$"
pair_validator = RegexValidator(
    PAIR_REGEX, "Pair must be upper-case BASE/QUOTE, for example EUR/USD."
)
