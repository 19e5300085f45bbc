"""Examples of the webhook operations for the OpenAPI schema (registered with
api.schema in WebhooksConfig.ready; checked against the schema)."""

from typing import Any

from api.schema import page_example

SUBSCRIPTION = {
    "id": 12,
    "url": "https://hooks.example.com/alphaforge",
    "types": ["signal.created", "signal.resolved"],
    "pairs": ["EUR/USD", "GBP/USD"],
    "timeframes": ["1h"],
    "min_confidence": 60.0,
    "state": "enabled",
    "created_at": "2026-01-05T14:00:03.120000Z",
}
REQUEST = {
    key: SUBSCRIPTION[key]
    for key in ("url", "types", "pairs", "timeframes", "min_confidence")
}
DELIVERY = {
    "id": 3051,
    "event_id": 123,
    "event_type": "signal.created",
    "state": "failed",
    "attempts": 8,
    "last_status": 503,
    "last_error": "HTTP 503",
    "next_attempt_at": None,
    "delivered_at": None,
}


EXAMPLES: dict[str, dict[str, Any]] = {
    "api_webhooks_list": {"responses": {"200": page_example([SUBSCRIPTION])}},
    "api_webhooks_create": {
        "request": REQUEST,
        "responses": {
            "201": {
                **SUBSCRIPTION,
                "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            },
            "400": {"url": ["Must resolve only to public addresses."]},
        },
    },
    "api_webhooks_retrieve": {"responses": {"200": SUBSCRIPTION}},
    "api_webhooks_partial_update": {
        "request": {"pairs": ["EUR/USD"], "state": "enabled"},
        "responses": {"200": {**SUBSCRIPTION, "pairs": ["EUR/USD"]}},
    },
    "api_webhooks_deliveries_list": {"responses": {"200": page_example([DELIVERY])}},
    "api_webhooks_deliveries_retry_create": {
        "responses": {
            "202": {
                **DELIVERY,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": "2026-01-05T15:00:00Z",
            }
        }
    },
}
