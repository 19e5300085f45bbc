"""The signal rollup's upkeep: what signal rows contribute to its groups, and the
upsert that adds a change to it. Called by `signals.services` inside each writing
transaction (and by the rebuild), so the rollup commits or rolls back with the write.

Each write reads the contributions of the rows it changes before (after locking them)
and after, and writes the difference in ONE upsert with its groups sorted: writers lock
the same rollup rows in the same order, so they queue instead of deadlocking.
"""

import json
from collections.abc import Iterable
from typing import Any

from django.db import connection

TABLE = "signals_signalrollup"
KEY = ("pair", "timeframe", "direction", "status", "outcome", "band", "edge")
SUMS = ("signals", "confidence_sum", "confidence_squares", "pips_sum")
# [10b, 10b + 10), as the calibration buckets' bounds, and 100 alone in band 10 (the
# last bucket takes bands 9 and 10), so every bound on a multiple of 10 is exact.
BAND_SQL = (
    "CASE "
    + " ".join(f"WHEN confidence < {10 * (band + 1)} THEN {band}" for band in range(10))
    + " ELSE 10 END"
)
EDGE_SQL = (
    "CASE WHEN confidence IN ("
    + ", ".join(str(10 * band) for band in range(11))
    + ") THEN TRUE ELSE FALSE END"
)
# numeric(5, 2) on PostgreSQL, a REAL on SQLite: rounding makes both exact.
CENTI_SQL = "CAST(ROUND(confidence * 100) AS BIGINT)"
UPSERT_ROWS = 90  # 11 parameters a row: under SQLite's oldest limit of 999

Group = tuple[Any, ...]
Delta = dict[Group, list[Any]]


def contributions_sql(*, source: str, where: str, sign: str = "") -> str:
    """The SELECT of each group's sums over the rows of `source` matching `where`
    (negated with sign="-")."""
    return (
        f"SELECT pair, timeframe, direction, status, outcome, {BAND_SQL} AS band, "
        f"{EDGE_SQL} AS edge, {sign}COUNT(*), {sign}SUM({CENTI_SQL}), "
        f"{sign}SUM({CENTI_SQL} * {CENTI_SQL}), {sign}COALESCE(SUM(pips), 0) "
        f"FROM {source} WHERE {where} GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )


def upsert_select_sql(
    *, source: str, where: str, sign: str = "", postgres: bool = True
) -> str:
    """Add (sign="") or take away (sign="-") the contributions of the rows of
    `source` matching `where`, in one statement, groups in order. `bench` also runs
    it around its own raw writes (PostgreSQL only)."""
    select = contributions_sql(source=source, where=where, sign=sign)
    # Groups in the order rollup_add sorts them (Python compares text by code
    # point: PostgreSQL's "C" collation, SQLite's default), the locking order of
    # every upsert. WHERE (always present) keeps SQLite's parser from reading ON
    # CONFLICT as part of the SELECT's join.
    collate = ' COLLATE "C"' if postgres else ""
    order = ", ".join(
        f"{name}{collate}" if name not in ("band", "edge") else name for name in KEY
    )
    return (
        f"INSERT INTO {TABLE} ({', '.join(KEY + SUMS)}) {select} "
        f"ORDER BY {order} {_conflict_clause()}"
    )


def _conflict_clause() -> str:
    updates = ", ".join(f"{name} = {TABLE}.{name} + excluded.{name}" for name in SUMS)
    return f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}"


def _ids_where(ids: list[int]) -> tuple[str, list[Any]]:
    if connection.vendor == "postgresql":
        return "id = ANY(%s::bigint[])", [ids]
    # One parameter whatever the number of ids.
    return "id IN (SELECT value FROM json_each(%s))", [json.dumps(ids)]


def rollup_rows_add(*, ids: Iterable[int], sign: str = "") -> None:
    """Add the signals with these ids to the rollup (sign="-": take them away), in
    one statement: for inserts (after) and deletes (before)."""
    ids = list(ids)
    if ids:
        where, params = _ids_where(ids)
        with connection.cursor() as cursor:
            cursor.execute(
                upsert_select_sql(
                    source="signals_signal",
                    where=where,
                    sign=sign,
                    postgres=connection.vendor == "postgresql",
                ),
                params,
            )


def rollup_contributions(*, ids: Iterable[int], only_active: bool = False) -> Delta:
    """Each group's sums over the signals with these ids (one query); with
    `only_active`, over those still active only."""
    ids = list(ids)
    if not ids:
        return {}
    where, params = _ids_where(ids)
    if only_active:
        where += " AND status = 'active'"
    with connection.cursor() as cursor:
        cursor.execute(contributions_sql(source="signals_signal", where=where), params)
        rows = cursor.fetchall()
    return {
        (*row[:6], bool(row[6])): [int(row[7]), int(row[8]), int(row[9]), row[10]]
        for row in rows
    }


def rollup_delta(*, before: Delta, after: Delta) -> Delta:
    """after − before, group by group."""
    delta: Delta = {}
    rollup_merge(delta, after)
    rollup_merge(delta, before, sign=-1)
    return delta


def rollup_merge(into: Delta, delta: Delta, *, sign: int = 1) -> None:
    """Add `delta` (times `sign`) into `into`, in place."""
    for group, sums in delta.items():
        current = into.setdefault(group, [0] * len(SUMS))
        for index, value in enumerate(sums):
            current[index] += sign * value


def rollup_add(delta: Delta) -> None:
    """Add the delta to the rollup: one upsert per UPSERT_ROWS groups, in group
    order; groups whose sums do not change are left alone."""
    rows = [(*group, *sums) for group, sums in sorted(delta.items()) if any(sums)]
    if not rows:
        return
    columns = ", ".join(KEY + SUMS)
    placeholder = "(" + ", ".join(["%s"] * (len(KEY) + len(SUMS))) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            batch = rows[start : start + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {TABLE} ({columns}) "
                f"VALUES {', '.join([placeholder] * len(batch))} "
                f"{_conflict_clause()}",
                [value for row in batch for value in row],
            )


def rollup_rebuild() -> int:
    """Empty the rollup and recount it from every signal; returns its row count."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(
            upsert_select_sql(
                source="signals_signal",
                where="TRUE",
                postgres=connection.vendor == "postgresql",
            )
        )
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        return cursor.fetchone()[0]
