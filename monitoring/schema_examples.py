"""Examples of the operations endpoints for the OpenAPI schema (registered with
api.schema in MonitoringConfig.ready; checked against the schema)."""

from typing import Any

EXAMPLES: dict[str, dict[str, Any]] = {
    "api_health_retrieve": {"responses": {"200": {"status": "ok"}}},
    "api_ready_retrieve": {
        "responses": {
            "200": {"status": "ok", "database": "ok", "cache": "ok"},
            "503": {
                "status": "unavailable: cache",
                "database": "ok",
                "cache": "unavailable",
            },
        }
    },
    "api_metrics_retrieve": {
        "responses": {
            "200": {
                "system": {
                    "cpu_percent": 12.5,
                    "cpu_count": 2,
                    "memory_total_bytes": 4105375744,
                    "memory_available_bytes": 2618163200,
                    "memory_percent": 36.2,
                    "process_rss_bytes": 98566144,
                    "process_id": 4711,
                },
                "cache": {"hits": 9120, "misses": 311, "hit_rate": 0.967},
                "performance": {
                    "GET /api/signals/": {
                        "total_requests": 5120,
                        "avg_duration_ms": 3.412,
                        "p95_duration_ms": 9.87,
                    }
                },
            }
        }
    },
    "metrics_retrieve": {
        "responses": {
            "200": "# HELP django_http_requests_total_by_view_transport_method_total "
            "Count of requests by view, transport, method.\n"
            "# TYPE django_http_requests_total_by_view_transport_method_total counter\n"
            'django_http_requests_total_by_view_transport_method_total{method="GET",'
            'transport="http",view="signal-list"} 5120.0\n'
        }
    },
}
