"""JSON rendering through orjson for the hot read paths.

DRF's JSONRenderer goes through the standard library encoder and its Python
`default` hook for every Decimal and datetime; orjson renders the same JSON values
(floats as the shortest text that reads back the same, datetimes as DRF writes them:
ISO 8601, `Z` for UTC) in C. A requested indent (`Accept: application/json;
indent=2`) keeps DRF's rendering, as does anything orjson refuses (integers past
64 bits in a JSON column), and content negotiation: the browsable API is
another renderer of the same data.
"""

from collections.abc import Sequence
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Everything else DRF's encoder knows (Decimal → float, lazy text, UUID, …).
_fallback = JSONEncoder().default
OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


class FastJSONRenderer(JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        context = renderer_context or {}
        if "indent" in (accepted_media_type or "") or context.get("indent"):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            return orjson.dumps(data, default=_fallback, option=OPTIONS)
        except orjson.JSONEncodeError:  # e.g. an integer past 64 bits in JSON
            return super().render(data, accepted_media_type, renderer_context)


def with_fast_json(
    renderers: Sequence[type[BaseRenderer]],
) -> list[type[BaseRenderer]]:
    """The configured renderers, DRF's JSONRenderer replaced by FastJSONRenderer."""
    return [
        FastJSONRenderer if renderer is JSONRenderer else renderer
        for renderer in renderers
    ]
