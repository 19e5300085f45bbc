"""Examples of the journal operations for the OpenAPI schema (registered with
api.schema in JournalConfig.ready; checked against the schema)."""

from typing import Any

from api.schema import page_example

ACCOUNT_CREATE = {
    "name": "IC Markets live",
    "broker": "IC Markets",
    "currency": "USD",
    "timezone": "Europe/London",
}
ACCOUNT = {"id": 7, **ACCOUNT_CREATE, "created_at": "2026-01-02T09:00:00Z"}
CREATE = {
    "account": 7,
    "signal": 4182,
    "pair": "EUR/USD",
    "direction": "buy",
    "entry_price": 1.1,
    "stop_loss": 1.095,
    "take_profit": 1.11,
    "quantity": 10000,
    "opened_at": "2026-01-05T10:00:00Z",
    "exit_price": 1.105,
    "closed_at": "2026-01-05T12:00:00Z",
    "fees": 7.0,
    "swap": -0.5,
    "setup": "breakout",
    "tags": ["a grade", "london open"],
    "notes": "textbook",
}
ENTRY = {
    "id": 311,
    **CREATE,
    "gross_pnl": 50.0,
    "pnl": 42.5,
    "pips": 50.0,
    "r_multiple": 1.0,
    "mae_pips": 12.0,
    "mfe_pips": 64.0,
    "mae_r": 0.24,
    "mfe_r": 1.28,
    "outcome": "win",
    "created_at": "2026-01-05T12:01:10Z",
    "updated_at": "2026-01-05T12:01:10Z",
}
GROUP = {
    "trades": 40,
    "wins": 18,
    "losses": 21,
    "win_rate": 0.45,
    "total_pnl": 812.5,
    "expectancy": 20.3125,
}
EMPTY_GROUP = {
    "trades": 0,
    "wins": 0,
    "losses": 0,
    "win_rate": None,
    "total_pnl": 0.0,
    "expectancy": None,
}
STATS = {
    "total_trades": 42,
    "open_trades": 2,
    "closed_trades": 40,
    "wins": 18,
    "losses": 21,
    "breakevens": 1,
    "win_rate": 0.45,
    "total_pnl": 812.5,
    "total_fees": 280.0,
    "total_swap": -7.5,
    "gross_pnl": 1100.0,
    "gross_profit": 3240.0,
    "gross_loss": 2427.5,
    "profit_factor": 1.3347,
    "avg_win": 180.0,
    "avg_loss": -115.595,
    "expectancy": 20.3125,
    "avg_r_multiple": 0.21,
    "total_pips": 81.25,
    "largest_win": 410.0,
    "largest_loss": -160.0,
    "max_drawdown": 655.0,
    "longest_win_streak": 4,
    "longest_loss_streak": 5,
    "payoff_ratio": 1.5572,
    "sqn": 0.98,
    "by_pair": [
        {
            "pair": "EUR/USD",
            "trades": 40,
            "wins": 18,
            "losses": 21,
            "win_rate": 0.45,
            "total_pnl": 812.5,
            "total_pips": 81.25,
        }
    ],
    "by_month": [{"month": "2026-01", "trades": 40, "wins": 18, "total_pnl": 812.5}],
    "by_weekday": [
        {"weekday": day, **(GROUP if day == 1 else EMPTY_GROUP)} for day in range(7)
    ],
    "by_hour": [
        {"hour": hour, **(GROUP if hour == 9 else EMPTY_GROUP)} for hour in range(24)
    ],
    "by_session": [
        {"session": "asia", **EMPTY_GROUP},
        {"session": "london", **GROUP},
        {"session": "new_york", **GROUP},
    ],
    "by_holding_time": [
        {"holding_time": label, **(GROUP if label == "1h-4h" else EMPTY_GROUP)}
        for label in ("<5m", "5m-1h", "1h-4h", "4h-1d", "1d-1w", ">1w")
    ],
    "by_tag": [{"tag": "a grade", **GROUP}],
    "r_histogram": [
        {
            "from": None if k < -6 else k / 2,
            "to": None if k >= 6 else (k + 1) / 2,
            "trades": {-2: 21, 2: 18}.get(k, 0),
        }
        for k in range(-7, 7)
    ],
    "exit_efficiency": 0.62,
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "api_journal_list": {"responses": {"200": page_example([ENTRY], count=42)}},
    "api_journal_create": {"request": CREATE, "responses": {"201": ENTRY}},
    "api_journal_retrieve": {"responses": {"200": ENTRY}},
    "api_journal_partial_update": {
        "request": {"notes": "textbook; moved the stop to entry at +30 pips"},
        "responses": {
            "200": {**ENTRY, "notes": "textbook; moved the stop to entry at +30 pips"}
        },
    },
    "api_journal_bulk_create": {
        "request": [CREATE, {**CREATE, "signal": None, "pair": "GBP/USD"}],
        "responses": {"201": {"created": 2, "ids": [312, 313]}},
    },
    "api_journal_stats_retrieve": {"responses": {"200": STATS}},
    "api_journal_export_csv": {
        "responses": {
            "200": "id,account,signal,pair,direction,entry_price,exit_price,stop_loss,"
            "take_profit,quantity,opened_at,closed_at,fees,swap,gross_pnl,pnl,pips,"
            "r_multiple,mae_pips,mfe_pips,outcome,setup,tags,notes,created_at,"
            "updated_at\r\n"
            "311,7,4182,EUR/USD,buy,1.1,1.105,1.095,1.11,10000,2026-01-05T10:00:00Z,"
            "2026-01-05T12:00:00Z,7,-0.5,50,42.5,50,1,12,64,win,breakout,"
            '"a grade,london open",textbook,2026-01-05T12:01:10Z,'
            "2026-01-05T12:01:10Z\r\n"
        }
    },
    "api_journal_import_create": {
        "request": {
            "file": "statement.csv",
            "account": 7,
            "format": "csv",
            "mapping": '{"pair": "Symbol", "direction": "Side"}',
            "atomic": True,
        },
        "responses": {"202": {"id": 12, "status": "queued"}},
    },
    "api_journal_import_retrieve": {
        "responses": {
            "200": {
                "id": 12,
                "status": "done",
                "progress": 1.0,
                "created": 118,
                "skipped": 4,
                "refused": [],
                "error": "",
            }
        }
    },
    "api_journal_accounts_list": {"responses": {"200": page_example([ACCOUNT])}},
    "api_journal_accounts_create": {
        "request": ACCOUNT_CREATE,
        "responses": {"201": ACCOUNT},
    },
    "api_journal_accounts_retrieve": {"responses": {"200": ACCOUNT}},
    "api_journal_accounts_partial_update": {
        "request": {"timezone": "America/New_York"},
        "responses": {"200": {**ACCOUNT, "timezone": "America/New_York"}},
    },
}
