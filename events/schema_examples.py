"""Examples of the event log's operations for the OpenAPI schema (registered with
api.schema in EventsConfig.ready; checked against the schema)."""

from typing import Any

SIGNAL = {
    "id": 4182,
    "pair": "EUR/USD",
    "timeframe": "1h",
    "direction": "buy",
    "entry_price": 1.0874,
    "stop_loss": 1.0851,
    "take_profit": 1.092,
    "confidence": 68.4,
    "status": "active",
    "outcome": "pending",
    "timestamp": "2026-01-05T14:00:00Z",
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "api_events_retrieve": {
        "responses": {
            "200": {
                "results": [
                    {
                        "id": 124,
                        "type": "signal.created",
                        "occurred_at": "2026-01-05T14:00:03.120000Z",
                        "data": SIGNAL,
                    }
                ],
                "after": 124,
            },
            "410": {
                "detail": "Events after 12 were pruned; resynchronise from the "
                "signal list.",
                "oldest_id": 5001,
            },
        }
    },
}
