"""The stats' breakdowns of closed entries: by weekday, hour and session of opening,
by holding time and by tag, the R histogram and the exit efficiency.

Two queries whatever the entries: the time zones of the selected entries' accounts
(the account's zone when they share one, else UTC), then one statement that groups
the closed entries every way at once (a UNION ALL of GROUP BYs). Local times come from
the ORM's time-zone-aware extracts (PostgreSQL's AT TIME ZONE; Django's zoneinfo
functions on SQLite), so daylight saving is right on both; money is summed exactly as
in window_stats.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, ExtractHour, ExtractIsoWeekDay

from .trade import LOSS, PNL_PLACES, WIN
from .window_stats import exact, ratio, units_to_decimal

UTC_ZONE = "UTC"
# Each session in its own city's local time: [start hour, end hour).
SESSIONS = (
    ("asia", "Asia/Tokyo", 0, 9),
    ("london", "Europe/London", 8, 17),
    ("new_york", "America/New_York", 8, 17),
)
# Holding time buckets: [lower bound, next bucket's lower bound).
HOLDING = (
    ("<5m", timedelta(0)),
    ("5m-1h", timedelta(minutes=5)),
    ("1h-4h", timedelta(hours=1)),
    ("4h-1d", timedelta(hours=4)),
    ("1d-1w", timedelta(days=1)),
    (">1w", timedelta(weeks=1)),
)
R_WIDTH = Decimal("0.5")
R_LOW, R_HIGH = -6, 6  # buckets k in [R_LOW, R_HIGH): [k·0.5, (k+1)·0.5); ends open


def stats_zone(queryset: QuerySet) -> str:
    """The time zone of the selected entries' accounts, or UTC when they differ."""
    zones = list(
        queryset.order_by().values_list("account__timezone", flat=True).distinct()[:2]
    )
    return zones[0] if len(zones) == 1 else UTC_ZONE


def _base(queryset: QuerySet, zone: str) -> tuple[str, tuple]:
    """SQL of the closed entries' columns the breakdowns group by."""
    local = ZoneInfo(zone)
    held = ExpressionWrapper(
        F("closed_at") - F("opened_at"), output_field=DurationField()
    )
    holding = Case(
        *(
            When(held__lt=bound, then=Value(index - 1))
            for index, (_, bound) in enumerate(HOLDING)
            if index
        ),
        default=Value(len(HOLDING) - 1),
        output_field=IntegerField(),
    )
    annotated = (
        queryset.closed()
        .order_by()
        .annotate(
            b_weekday=ExtractIsoWeekDay("opened_at", tzinfo=local),
            b_hour=ExtractHour("opened_at", tzinfo=local),
            **{
                f"b_{name}": ExtractHour("opened_at", tzinfo=ZoneInfo(city))
                for name, city, _, _ in SESSIONS
            },
            held=held,
            b_holding=holding,
            b_efficiency=Case(  # pips / mfe_pips of wins with excursions
                When(
                    outcome=WIN,
                    mfe_pips__gt=0,
                    then=Cast(F("pips"), FloatField())
                    / Cast(F("mfe_pips"), FloatField()),
                ),
                output_field=FloatField(),
            ),
        )
    )
    columns = ["id", "outcome", "pnl", "r_multiple", "b_weekday", "b_hour"]
    columns += [f"b_{name}" for name, _, _, _ in SESSIONS]
    columns += ["b_holding", "b_efficiency"]
    return annotated.values_list(*columns).query.sql_with_params()


def _aggregates(vendor: str) -> str:
    pnl = exact("pnl", PNL_PLACES, vendor)
    return (
        "COUNT(*) AS trades,"
        f" SUM(CASE WHEN outcome = '{WIN}' THEN 1 ELSE 0 END) AS wins,"
        f" SUM(CASE WHEN outcome = '{LOSS}' THEN 1 ELSE 0 END) AS losses,"
        f" SUM({pnl}) AS total_pnl"
    )


def _statement(base: str, vendor: str, model: Any) -> str:
    links = model.tags.through
    tag_table = model.tags.field.related_model._meta.db_table
    sums = _aggregates(vendor)
    text, number = "CAST(NULL AS VARCHAR(40))", "CAST(NULL AS INTEGER)"
    # Computed once for the eight branches (inlined, each recomputed the time-zone
    # extracts of every row: 2x slower at 100,000 entries).
    inline = "MATERIALIZED " if vendor == "postgresql" else ""
    r_bucket = (
        f"CASE WHEN r < {R_LOW * R_WIDTH} THEN {R_LOW - 1}"
        f" WHEN r >= {R_HIGH * R_WIDTH} THEN {R_HIGH}"
        f" ELSE CAST(FLOOR(r / {R_WIDTH}) AS INTEGER) END"
    )
    branches = [
        f"SELECT 'weekday', CAST(weekday AS INTEGER), {text}, {sums}"
        " FROM closed GROUP BY weekday",
        f"SELECT 'hour', CAST(hour AS INTEGER), {text}, {sums}"
        " FROM closed GROUP BY hour",
        *(
            f"SELECT 'session', {number}, '{name}', {sums} FROM closed"
            f" WHERE {name} >= {start} AND {name} < {end}"
            for name, _, start, end in SESSIONS
        ),
        f"SELECT 'holding', holding, {text}, {sums} FROM closed GROUP BY holding",
        f"SELECT 'tag', {number}, t.name, {sums}"
        f" FROM closed JOIN {links._meta.db_table} l ON l.journalentry_id = closed.id"
        f" JOIN {tag_table} t ON t.id = l.tag_id GROUP BY t.name",
        f"SELECT 'r', {r_bucket}, {text}, {sums} FROM closed"
        f" WHERE r IS NOT NULL GROUP BY {r_bucket}",
        # The mean's parts: the count, and the sum where total_pnl stands.
        f"SELECT 'efficiency', {number}, {text}, COUNT(efficiency), 0, 0,"
        " CAST(SUM(efficiency) AS NUMERIC) FROM closed",
    ]
    names = ", ".join(f"b_{name}" for name, _, _, _ in SESSIONS)
    return (
        f"WITH closed (id, outcome, pnl, r, weekday, hour,"
        f" {names.replace('b_', '')}, holding, efficiency) AS {inline}({base})\n"
        + "\nUNION ALL\n".join(branches)
    )


def _item(row: dict[str, Any] | None, vendor: str) -> dict[str, Any]:
    row = row or {}
    trades = row.get("trades") or 0
    total = units_to_decimal(row.get("total_pnl"), PNL_PLACES, vendor) or Decimal(0)
    return {
        "trades": trades,
        "wins": row.get("wins") or 0,
        "losses": row.get("losses") or 0,
        "win_rate": ratio(row.get("wins") or 0, trades),
        "total_pnl": float(total),
        "expectancy": ratio(total, trades),
    }


def _shape(rows: list[dict[str, Any]], vendor: str) -> dict[str, Any]:
    found = {(row["kind"], row["number"], row["text"]): row for row in rows}

    def item(kind: str, number: int | None = None, text: str | None = None) -> dict:
        return _item(found.get((kind, number, text)), vendor)

    tags = sorted(row["text"] for row in rows if row["kind"] == "tag")
    histogram = []
    for k in range(R_LOW - 1, R_HIGH + 1):
        bucket = found.get(("r", k, None)) or {}
        histogram.append(
            {
                "from": None if k < R_LOW else float(k * R_WIDTH),
                "to": None if k >= R_HIGH else float((k + 1) * R_WIDTH),
                "trades": bucket.get("trades") or 0,
            }
        )
    return {
        "by_weekday": [
            {"weekday": day, **item("weekday", day + 1)} for day in range(7)
        ],
        "by_hour": [{"hour": hour, **item("hour", hour)} for hour in range(24)],
        "by_session": [
            {"session": name, **item("session", None, name)}
            for name, _, _, _ in SESSIONS
        ],
        "by_holding_time": [
            {"holding_time": label, **item("holding", index)}
            for index, (label, _) in enumerate(HOLDING)
        ],
        "by_tag": [{"tag": tag, **item("tag", None, tag)} for tag in tags],
        "r_histogram": histogram,
        "exit_efficiency": _efficiency(found.get(("efficiency", None, None))),
    }


def _efficiency(row: dict[str, Any] | None) -> float | None:
    """Mean pips / mfe_pips of the wins with excursions; None without any."""
    if not row or not row["trades"]:
        return None
    return float(row["total_pnl"]) / row["trades"]


def breakdowns(queryset: QuerySet) -> dict[str, Any]:
    """The breakdowns of the closed entries of `queryset`, in two queries."""
    vendor = connection.vendor
    try:
        zone = stats_zone(queryset)
        base, params = _base(queryset, zone)
    except EmptyResultSet:
        return _shape([], vendor)
    with connection.cursor() as cursor:
        cursor.execute(_statement(base, vendor, queryset.model), params)
        names = ["kind", "number", "text", "trades", "wins", "losses", "total_pnl"]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return _shape(rows, vendor)
