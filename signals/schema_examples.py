"""Examples of the signal and backtest operations for the OpenAPI schema
(registered with api.schema in SignalsConfig.ready; checked against the schema)."""

from typing import Any

MINIMAL = {
    "id": 4182,
    "pair": "EUR/USD",
    "timeframe": "1h",
    "direction": "buy",
    "entry_price": 1.0874,
    "stop_loss": 1.0851,
    "take_profit": 1.092,
    "confidence": 68.4,
    "status": "closed",
    "outcome": "win",
    "timestamp": "2026-01-05T14:00:00Z",
}
DETAIL = {
    **MINIMAL,
    "risk_reward": 2.0,
    "strategy": "trend_momentum",
    "indicators": {
        "ema_20": 1.08671,
        "ema_50": 1.08502,
        "rsi_14": 58.3,
        "macd": 0.00041,
        "macd_signal": 0.00029,
        "macd_hist": 0.00012,
        "atr_14": 0.00153,
        "adx_14": 27.9,
        "bb_upper": 1.0893,
        "bb_middle": 1.0861,
        "bb_lower": 1.0829,
    },
    "reasoning": "BUY: uptrend (EMA20 above EMA50, close above EMA20) with upward "
    "momentum (MACD histogram > 0, RSI14 > 50); ADX14 27.9 >= 20.",
    "exit_price": 1.092,
    "pips": 46.0,
    "mae_pips": 8.5,
    "mfe_pips": 46.0,
    "closed_at": "2026-01-06T03:00:00Z",
    "created_at": "2026-01-05T15:00:02Z",
    "updated_at": "2026-01-06T03:05:00Z",
    "score": 74.2,
    "calibration_id": 12,
}
CREATE = {
    "pair": "EUR/USD",
    "timeframe": "1h",
    "direction": "buy",
    "entry_price": 1.0874,
    "stop_loss": 1.0851,
    "take_profit": 1.092,
    "confidence": 68.4,
    "timestamp": "2026-01-05T14:00:00Z",
    "strategy": "manual",
}
ACTIVE = {
    **DETAIL,
    "strategy": "manual",
    "status": "active",
    "outcome": "pending",
    "indicators": {},
    "reasoning": "",
    "exit_price": None,
    "pips": None,
    "mae_pips": None,
    "mfe_pips": None,
    "closed_at": None,
    "updated_at": "2026-01-05T15:00:02Z",
    "score": None,
    "calibration_id": None,
}
PAGE = {
    "count": 1234,
    "page": 2,
    "page_size": 50,
    "total_pages": 25,
    "has_next": True,
    "has_previous": True,
    "next": "https://alphaforge.example.com/api/signals/?page=3&pair=EUR%2FUSD",
    "previous": "https://alphaforge.example.com/api/signals/?pair=EUR%2FUSD",
    "results": [MINIMAL],
}
STATS = {
    "total": 470,
    "by_status": {"active": 2, "closed": 405, "expired": 63, "cancelled": 0},
    "by_outcome": {"pending": 2, "win": 155, "loss": 250, "breakeven": 0},
    "win_rate": 0.3827,
    "avg_confidence": 61.2,
    "total_pips": -143.2,
    "by_pair": [
        {
            "pair": "EUR/USD",
            "total": 470,
            "wins": 155,
            "losses": 250,
            "win_rate": 0.3827,
            "avg_confidence": 61.2,
            "total_pips": -143.2,
        }
    ],
    "calibration": {
        "brier_score": 0.328,
        "base_rate_brier": 0.2363,
        "brier_skill_score": -0.388,
        "calibration_error": 23.4,
        "buckets": [
            {
                "min_confidence": 10 * n,
                "max_confidence": 10 * n + 10,
                "signals": count,
                "wins": wins,
                "losses": count - wins,
                "win_rate": wins / count if count else None,
            }
            for n, (count, wins) in enumerate(
                [(0, 0)] * 5 + [(180, 66), (130, 51), (70, 27), (25, 11), (0, 0)]
            )
        ],
    },
}
GENERATE_BODY = {"pairs": ["EUR/USD", "GBP/USD"], "timeframe": "1h"}
GENERATED = {
    "generated": [{**DETAIL, **{k: ACTIVE[k] for k in ("status", "outcome")}}],
    "skipped": [{"pair": "GBP/USD", "reason": "no setup"}],
    "duration_ms": 12.3,
}
for key in ("exit_price", "pips", "mae_pips", "mfe_pips", "closed_at"):
    GENERATED["generated"][0][key] = None

RECORD = {
    "signals": 470,
    "wins": 155,
    "losses": 250,
    "win_rate": 0.3827,
    "expectancy_r": -0.012,
    "profit_factor": 0.98,
    "brier_score": 0.2301,
    "base_rate_brier": 0.2363,
    "brier_skill_score": 0.026,
    "calibration_error": 2.9,
    "buckets": STATS["calibration"]["buckets"],  # type: ignore[index]
}
STRATEGY = {
    "name": "trend_momentum",
    "description": "Trend momentum: EMA20/EMA50 trend confirmed by MACD and RSI, "
    "ADX >= 20; stop 1.5 x ATR, target 2R.",
    "parameters": {"ema_fast": 20, "ema_slow": 50, "risk_reward": 2.0},
    "timeframes": ["1h"],
    "enabled": True,
    "live": RECORD,
    "walk_forward": {
        **RECORD,
        "backtest_id": 7,
        "from": "2017-06-09T01:00:00Z",
        "to": "2018-02-07T15:00:00Z",
    },
    "calibration": {
        "id": 12,
        "fitted_at": "2026-01-05T14:07:00Z",
        "outcomes_until": "2026-01-05T13:00:00Z",
        "count": 405,
        "base_rate": 0.3794,
        "method": "isotonic",
    },
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "api_strategies_list": {"responses": {"200": {"results": [STRATEGY]}}},
    "api_strategies_retrieve": {"responses": {"200": STRATEGY}},
    "api_signals_list": {"responses": {"200": PAGE}},
    "api_signals_create": {"request": CREATE, "responses": {"201": ACTIVE}},
    "api_signals_retrieve": {"responses": {"200": DETAIL}},
    "api_signals_partial_update": {
        "request": {"confidence": 72.5, "reasoning": "Confirmed on the 4h chart."},
        "responses": {
            "200": {
                **ACTIVE,
                "confidence": 72.5,
                "reasoning": "Confirmed on the 4h chart.",
            }
        },
    },
    "api_signals_feed_list": {
        "responses": {
            "200": {
                "next": "https://alphaforge.example.com/api/signals/feed/?cursor=cD0yMDI2",
                "previous": None,
                "results": [MINIMAL],
            }
        }
    },
    "api_signals_stats_retrieve": {"responses": {"200": STATS}},
    "api_signals_bulk_create": {
        "request": [
            CREATE,
            {
                **CREATE,
                "pair": "GBP/USD",
                "entry_price": 1.2731,
                "stop_loss": 1.2702,
                "take_profit": 1.2789,
            },
        ],
        "responses": {
            "201": {"created": 2, "ids": [4183, 4184]},
            "400": {
                "errors": {
                    "1": {
                        "stop_loss": [
                            "a buy needs stop_loss < entry_price < take_profit"
                        ]
                    }
                }
            },
        },
    },
    "api_signals_bulk_partial_update": {
        "request": [
            {"id": 4183, "status": "cancelled"},
            {"id": 4184, "confidence": 55},
        ],
        "responses": {
            "200": {"updated": 2},
            "400": {"errors": {"0": {"id": ["No signal with id 4183."]}}},
        },
    },
    "api_signals_generate_create": {
        "request": GENERATE_BODY,
        "responses": {"200": GENERATED},
    },
    "api_signals_enhanced_generate_create": {
        "request": GENERATE_BODY,
        "responses": {"200": GENERATED},
    },
    "api_backtests_create": {
        "request": {
            "pair": "EUR/USD",
            "timeframe": "1h",
            "since": "2017-04-19T00:00:00Z",
            "folds": 4,
            "optimize": {"min_adx": [15, 20, 25], "risk_reward": [1.5, 2, 2.5]},
        },
        "responses": {"202": {"id": 7, "status": "queued"}},
    },
    "api_backtests_retrieve": {
        "responses": {
            "200": {
                "id": 7,
                "status": "running",
                "progress": 0.4,
                "report": None,
                "error": "",
            }
        }
    },
}
