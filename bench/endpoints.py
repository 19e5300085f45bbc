"""The endpoint scenarios of bench/run.py, and the floor's SQL for each, recorded from
the real views into floor_spec.json (bench/floor_app.py replays it)."""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from bench import dataset
from bench.capture import capture, client_call
from bench.data import Data, bulk_body, deep_cursor
from bench.scenarios import Kind, Scale, Scenario, list100_args
from bench.servers import HOST, Harness

REP_PAIR, REP_STATUS = "EUR/USD", "expired"  # representative values for the capture

HOT_IDS = 10_000  # the distinct ids of the cached-detail and write-stream rows
WRITES_PER_SECOND = 20


@dataclass
class Paths:
    """The URLs the scenarios request, on the app and on the floor."""

    generate_body: str
    lists: list[str]
    lists_floor: list[str]
    list500: list[str]
    list500_floor: list[str]
    depth_pages: int
    page_deep: str
    feed_deep: str
    feed_pairs: list[str]
    stats_pairs: list[str]
    stats_pairs_floor: list[str]
    ids: tuple[int, int]


def paths_build(db_url: str, scale: Scale, generate_body: str, ids: Any) -> Paths:
    pairs = dataset.PAIR_NAMES
    list_args = list100_args()
    depth_pages = min(1000, scale.signals // 100)
    cursor = deep_cursor(db_url, (depth_pages - 1) * 100)
    return Paths(
        generate_body=generate_body,
        lists=[f"/api/signals/?{urlencode(a)}" for a in list_args],
        lists_floor=[
            f"/floor/list100?{urlencode({'pair': a['pair'], 'status': a['status']})}"
            for a in list_args
        ],
        list500=[
            f"/api/signals/?{urlencode({'pair': p, 'page_size': 500})}" for p in pairs
        ],
        list500_floor=[f"/floor/list500?{urlencode({'pair': p})}" for p in pairs],
        depth_pages=depth_pages,
        page_deep=f"/api/signals/?page={depth_pages}&page_size=100",
        feed_deep="/api/signals/feed/?"
        + urlencode({"page_size": 100, "cursor": cursor}),
        feed_pairs=[
            f"/api/signals/feed/?{urlencode({'pair': p, 'page_size': 100})}"
            for p in pairs
        ],
        stats_pairs=[f"/api/signals/stats/?{urlencode({'pair': p})}" for p in pairs],
        stats_pairs_floor=[
            f"/floor/stats_pair?{urlencode({'pair': p})}" for p in pairs
        ],
        ids=ids,
    )


def cached(paths: list[str]) -> list[str]:
    """The floor's URLs of answers stored in Redis under their app path."""
    return [f"/floor/cached?u={quote(path, safe='')}" for path in paths]


def floor_spec_record(harness: Harness, data: Data, scale: Scale) -> Paths:
    """Record the SQL of every scenario into floor_spec.json; the URLs to request."""
    from django.test import Client

    generate_body = json.dumps({"pairs": dataset.PAIR_NAMES, "timeframe": "1h"})
    harness.log("capturing the SQL of each scenario for the floor")
    generate = {"method": "POST", "body": generate_body, "token": data.staff_token}
    generate_fresh = capture("/api/signals/generate/", writes=True, **generate)
    # Generate for real once, before the deep page and cursor are computed: from
    # here on every call finds "already generated" (or "no setup").
    client = Client(HTTP_HOST=HOST)
    client_call(
        client,
        "POST",
        "/api/signals/generate/",
        generate_body,
        {"HTTP_AUTHORIZATION": f"Token {data.staff_token}"},
    )
    paths = paths_build(harness.db_url, scale, generate_body, data.id_range)
    spec = _read_captures(paths, data, scale)
    spec["generate_fresh"] = generate_fresh
    # The signed cursor must land exactly where the page does.
    page_first = client.get(paths.page_deep).json()["results"][0]["id"]
    feed_first = client.get(paths.feed_deep).json()["results"][0]["id"]
    if page_first != feed_first:
        raise RuntimeError(f"feed cursor off: page {page_first}, feed {feed_first}")
    spec["generate"] = capture("/api/signals/generate/", writes=True, **generate)
    if not data.journal_missing:
        try:
            spec["journal_stats"] = capture(
                "/api/journal/stats/", token=data.trader_token
            )
        except Exception as error:
            data.journal_missing = f"not measured: journal stats failed ({error})"
    (harness.workdir / "floor_spec.json").write_text(json.dumps(spec))
    return paths


def _read_captures(paths: Paths, data: Data, scale: Scale) -> dict[str, Any]:
    lo, hi = paths.ids
    rep_id = lo + (hi - lo) * 7 // 13
    rep_args = {"pair": REP_PAIR, "status": REP_STATUS, "page_size": 100}
    return {
        "list100": capture(
            f"/api/signals/?{urlencode(rep_args)}",
            vary={"pair": REP_PAIR, "status": REP_STATUS},
        ),
        "list500": capture(
            f"/api/signals/?{urlencode({'pair': REP_PAIR, 'page_size': 500})}",
            vary={"pair": REP_PAIR},
        ),
        "page_deep": capture(paths.page_deep),
        "feed_deep": capture(paths.feed_deep),
        "detail": capture(f"/api/signals/{rep_id}/", vary={"id": rep_id}),
        "stats_pair": capture(
            f"/api/signals/stats/?{urlencode({'pair': REP_PAIR})}",
            vary={"pair": REP_PAIR},
        ),
        "stats_all": capture("/api/signals/stats/"),
        "bulk": capture(
            "/api/signals/bulk/",
            method="POST",
            body=bulk_body(0, scale.bulk_items),
            token=data.staff_token,
            writes=True,
        ),
    }


def scenarios_build(paths: Paths, data: Data, scale: Scale) -> list[Scenario]:
    """Every scenario of the endpoint table, in its order."""
    return [
        *_list_scenarios(paths, scale),
        *_stats_scenarios(paths, data, scale),
        _creates_scenario(paths, scale),
        *_write_and_mixed_scenarios(paths, data, scale),
    ]


def _creates_scenario(p: Paths, s: Scale) -> Scenario:
    """The cached list 100 while signals are created (measure_under_writes)."""
    d, c = s.duration, 50
    return Scenario(
        "list100_cached_creates",
        f"list 100, pair + status, cached, {WRITES_PER_SECOND} signals/s created",
        [Kind(1, p.lists)],
        [],
        c,
        d,
        cache=True,
        note=f"POST /api/signals/ {WRITES_PER_SECOND}/s, `active`, new "
        "timestamps, half in EUR/USD, half over the other pairs; ratio: ÷ the "
        "cached row's req/s (same load, no writes); misses per invalidation: "
        "the response cache's misses ÷ the answers the writes evicted",
    )


def _list_scenarios(p: Paths, s: Scale) -> list[Scenario]:
    d, c = s.duration, 50
    lo, hi = p.ids
    depth = (p.depth_pages - 1) * 100
    return [
        Scenario(
            "list100",
            "list 100 signals, filtered by pair + status",
            [Kind(1, p.lists)],
            [Kind(1, p.lists_floor)],
            c,
            d,
            note="90 URLs: 30 pairs × active/closed/expired",
        ),
        Scenario(
            "list100_cached",
            "list 100 signals, pair + status, cached",
            [Kind(1, p.lists)],
            [Kind(1, cached(p.lists))],
            c,
            d,
            cache=True,
            note="ENABLE_CACHE=true, warm; floor: the same bytes from Redis",
        ),
        Scenario(
            "list500",
            "list 500 signals, filtered by pair",
            [Kind(1, p.list500)],
            [Kind(1, p.list500_floor)],
            c,
            d,
        ),
        Scenario(
            "page_deep",
            f"page {p.depth_pages:,} (page_size=100), no filter",
            [Kind(1, [p.page_deep])],
            [Kind(1, ["/floor/page_deep"])],
            8,
            d,
            note=f"OFFSET {depth:,} plus COUNT(*)",
        ),
        Scenario(
            "feed_deep",
            f"feed at the same depth ({depth:,} rows in)",
            [Kind(1, [p.feed_deep])],
            [Kind(1, ["/floor/feed_deep"])],
            c,
            d,
            note="the cursor of that depth, signed once beforehand",
        ),
        Scenario(
            "detail",
            "detail, random id",
            [Kind(1, fmt="/api/signals/%d/", lo=lo, hi=hi)],
            [Kind(1, fmt="/floor/detail?id=%d", lo=lo, hi=hi)],
            c,
            d,
            note=f"ids {lo:,}–{hi:,}",
        ),
        Scenario(
            "detail_cached",
            f"detail, cache on, {HOT_IDS:,} distinct ids",
            [Kind(1, fmt="/api/signals/%d/", lo=hi - HOT_IDS + 1, hi=hi)],
            [Kind(1, fmt="/floor/detail?id=%d", lo=hi - HOT_IDS + 1, hi=hi)],
            c,
            d,
            cache=True,
            note="the newest ids (all 30 pairs); floor: the uncached detail's SQL",
        ),
    ]


def _stats_scenarios(p: Paths, data: Data, s: Scale) -> list[Scenario]:
    d, c = s.duration, 50
    return [
        Scenario(
            "stats_pair",
            "signal stats, one pair",
            [Kind(1, p.stats_pairs)],
            [Kind(1, p.stats_pairs_floor)],
            4,
            d,
        ),
        Scenario(
            "stats_all",
            f"signal stats, all {s.signals:,} signals",
            [Kind(1, ["/api/signals/stats/"])],
            [Kind(1, ["/floor/stats_all"])],
            2,
            d,
        ),
        Scenario(
            "stats_all_cached",
            "signal stats, all signals, cached",
            [Kind(1, ["/api/signals/stats/"])],
            [Kind(1, cached(["/api/signals/stats/"]))],
            c,
            d,
            cache=True,
            note="ENABLE_CACHE=true, warm",
        ),
        Scenario(
            "journal_stats",
            f"journal stats, {s.journal:,} entries of one user",
            [Kind(1, ["/api/journal/stats/"])],
            [Kind(1, ["/floor/journal_stats"])],
            4,
            d,
            token=data.trader_token,
        ),
    ]


def _hot_mix(p: Paths) -> list[Kind]:
    """The mixed reads with details over the newest HOT_IDS ids."""
    hi = p.ids[1]
    return [
        Kind(0.4, p.lists),
        Kind(0.4, fmt="/api/signals/%d/", lo=hi - HOT_IDS + 1, hi=hi),
        Kind(0.1, p.feed_pairs),
        Kind(0.1, p.stats_pairs),
    ]


def _write_and_mixed_scenarios(p: Paths, data: Data, s: Scale) -> list[Scenario]:
    lo, hi = p.ids
    return [
        Scenario(
            "generate",
            "generate, 30 pairs (POST)",
            [Kind(1, ["/api/signals/generate/"])],
            [Kind(1, ["/floor/generate"])],
            4,
            s.duration,
            method="POST",
            body=p.generate_body,
            token=data.staff_token,
            note="steady state: every pair 'already generated' or 'no setup'",
        ),
        Scenario(
            "mixed",
            "mixed reads, 200 connections",
            [
                Kind(0.4, p.lists),
                Kind(0.4, fmt="/api/signals/%d/", lo=lo, hi=hi),
                Kind(0.1, p.feed_pairs),
                Kind(0.1, p.stats_pairs),
            ],
            [
                Kind(0.4, cached(p.lists)),
                Kind(0.4, fmt="/floor/detail?id=%d", lo=lo, hi=hi),
                Kind(0.1, cached(p.feed_pairs)),
                Kind(0.1, cached(p.stats_pairs)),
            ],
            200,
            s.mixed,
            cache=True,
            note="40 % list, 40 % detail, 10 % feed, 10 % stats by pair; "
            "ENABLE_CACHE=true (production); floor: cached bytes from Redis for "
            "the lists, feeds and stats (warm in the app too), SQL for details",
        ),
        Scenario(
            "mixed_hot",
            f"mixed reads, details over {HOT_IDS:,} ids, 200 connections",
            _hot_mix(p),
            [
                Kind(0.4, cached(p.lists)),
                Kind(0.4, fmt="/floor/detail?id=%d", lo=hi - HOT_IDS + 1, hi=hi),
                Kind(0.1, cached(p.feed_pairs)),
                Kind(0.1, cached(p.stats_pairs)),
            ],
            200,
            s.mixed,
            cache=True,
            note="as mixed, details over the newest ids (all 30 pairs)",
        ),
        Scenario(
            "mixed_writes",
            f"the same with {WRITES_PER_SECOND} writes/s",
            _hot_mix(p),
            [],
            200,
            s.mixed,
            cache=True,
            note=f"PATCH confidence of random signals among those ids (30 pairs), "
            f"{WRITES_PER_SECOND}/s; ratio: ÷ mixed_hot's req/s (same load, no "
            "writes); hit rate from the response cache's counters",
        ),
    ]
