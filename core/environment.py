"""Reading settings from environment variables: the types the settings module needs."""

import os


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated list, items stripped, empty items dropped."""
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


def env_pairs(name: str) -> dict[str, str]:
    """ "key=value,key=value" as a dict, keys and values stripped."""
    return dict(map(str.strip, item.partition("=")[::2]) for item in env_list(name))
