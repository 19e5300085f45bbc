"""Fine-grained invalidation (signals/cache_versions.py): a write evicts exactly the
cached answers that may contain what it changed, and no read ever returns an answer
a committed write changed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.tests.test_fast_path import Wsgi
from market.tests.factories import START
from signals import services
from signals.cache_versions import answer_versions
from signals.models import Signal

pytestmark = pytest.mark.django_db
PAIRS = ("EUR/USD", "GBP/USD", "USD/JPY")


def test_an_answer_depends_on_its_pairs_or_on_every_signal():
    assert answer_versions("/api/signals/7/", {"pair": "EUR/USD"}) == ("signals:id:7",)
    assert answer_versions("/api/signals/007/", {}) == ("signals:id:7",)
    assert answer_versions("/api/signals/", {"pair": "GBP/USD, EUR/USD"}) == (
        "signals:pair:EUR/USD",
        "signals:pair:GBP/USD",
    )
    assert answer_versions("/api/signals/stats/", {"pair": "EUR/USD"}) == (
        "signals:pair:EUR/USD",
    )
    queries = ({}, {"pair": ""}, {"pair": "EUR/USD,"}, {"pair": "eur/usd\x00"})
    for query in (*queries, {"status": "active"}):
        assert answer_versions("/api/signals/feed/", query) == ("signals",)


def test_an_answer_filtered_by_a_cell_column_depends_on_those_cells_only():
    def versions(**query: str) -> tuple[str, ...]:
        return answer_versions("/api/signals/", query)

    assert versions(pair="EUR/USD,GBP/USD", status="closed") == (
        "signals:pair:EUR/USD:status:closed",
        "signals:pair:GBP/USD:status:closed",
    )
    # Status first, then outcome, timeframe, strategy: one column's cells suffice.
    assert versions(pair="EUR/USD", outcome="win", status="closed") == (
        "signals:pair:EUR/USD:status:closed",
    )
    assert versions(pair="EUR/USD", outcome="win", timeframe="1h") == (
        "signals:pair:EUR/USD:outcome:win",
    )
    assert versions(pair="EUR/USD", timeframe="4h") == (
        "signals:pair:EUR/USD:timeframe:4h",
    )
    assert versions(pair="EUR/USD", strategy=" breakout , manual,breakout ") == (
        "signals:pair:EUR/USD:strategy:breakout",
        "signals:pair:EUR/USD:strategy:manual",
    )
    # An empty value is no filter; a value the filter refuses is a 400 (never
    # cached): both fall back to the pair's name, which every write of it bumps.
    for query in ({"status": ""}, {"status": "ACTIVE"}, {"strategy": "a,,b"}):
        assert versions(pair="EUR/USD", **query) == ("signals:pair:EUR/USD",)
    assert versions(pair="EUR/USD", status="", outcome="loss") == (
        "signals:pair:EUR/USD:outcome:loss",
    )


def create(pair: str, hour: int) -> Signal:
    return services.signal_create(
        data={
            "pair": pair,
            "timeframe": "1h",
            "direction": "buy",
            "entry_price": Decimal("1.1"),
            "stop_loss": Decimal("1.09"),
            "take_profit": Decimal("1.12"),
            "confidence": Decimal(60),
            "timestamp": START + timedelta(hours=hour),
        }
    )


def state(client, path: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200
    return response["X-Cache"]


def test_a_write_evicts_only_the_answers_that_may_contain_it(
    api_client, any_cache, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        euro, pound = create("EUR/USD", 0), create("GBP/USD", 0)
    paths = {
        "euro list": "/api/signals/?pair=EUR/USD",
        "pound list": "/api/signals/?pair=GBP/USD",
        "pound stats": "/api/signals/stats/?pair=GBP/USD",
        "both feed": "/api/signals/feed/?pair=GBP/USD,EUR/USD",
        "all": "/api/signals/",
        "euro": f"/api/signals/{euro.id}/",
        "pound": f"/api/signals/{pound.id}/",
    }
    for path in paths.values():
        api_client.get(path)
    with django_capture_on_commit_callbacks(execute=True):
        services.signal_update(signal=euro, data={"confidence": Decimal(70)})
    states = {name: state(api_client, path) for name, path in paths.items()}
    assert states == {
        "euro list": "MISS",
        "pound list": "HIT",
        "pound stats": "HIT",
        "both feed": "MISS",
        "all": "MISS",
        "euro": "MISS",
        "pound": "HIT",
    }
    with django_capture_on_commit_callbacks(execute=True):  # moved to another pair
        services.signal_update(signal=euro, data={"pair": "USD/JPY"})
    assert state(api_client, paths["euro list"]) == "MISS"
    assert api_client.get(paths["euro list"]).json()["count"] == 0
    assert state(api_client, "/api/signals/?pair=USD/JPY") == "MISS"
    with django_capture_on_commit_callbacks(execute=True):  # a new signal
        create("USD/JPY", 1)
    assert state(api_client, paths["pound"]) == "HIT"
    assert state(api_client, paths["pound list"]) == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        services.signals_delete(queryset=Signal.objects.filter(pk=pound.pk))
    assert api_client.get(paths["pound"]).status_code == 404
    assert api_client.get(paths["pound list"]).json()["count"] == 0


def cell_states(client, paths: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name: state(client, path) for name, path in paths.items()}


def test_a_write_evicts_the_cells_its_rows_left_and_entered_and_no_other(
    api_client, any_cache, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        old = create("EUR/USD", 0)
    paths = {
        "active": "/api/signals/?pair=EUR/USD&status=active",
        "closed": "/api/signals/?pair=EUR/USD&status=closed",
        "closed stats": "/api/signals/stats/?pair=EUR/USD&status=closed",
        "wins": "/api/signals/feed/?pair=EUR/USD&outcome=win",
        "4h": "/api/signals/?pair=EUR/USD&timeframe=4h",
        "breakout": "/api/signals/?pair=EUR/USD&strategy=breakout",
        "pair": "/api/signals/?pair=EUR/USD",
    }
    for path in paths.values():
        api_client.get(path)
    with django_capture_on_commit_callbacks(execute=True):  # a new active 1h one
        create("EUR/USD", 1)
    assert cell_states(api_client, paths) == {
        "active": "MISS",
        "closed": "HIT",  # no active write can change the closed pages
        "closed stats": "HIT",
        "wins": "HIT",
        "4h": "HIT",
        "breakout": "HIT",
        "pair": "MISS",
    }
    with django_capture_on_commit_callbacks(execute=True):  # resolved: left active
        services.signals_resolve(
            resolutions=[
                services.Resolution(
                    old.pk, "closed", "win", old.take_profit, Decimal(20),
                    Decimal(-3), Decimal(20), old.timestamp + timedelta(hours=2),
                )
            ]
        )  # fmt: skip
    states = cell_states(api_client, paths)
    assert states["active"] == states["closed"] == states["wins"] == "MISS"
    assert states["closed stats"] == "MISS"
    assert states["4h"] == states["breakout"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):  # admin: into 4h
        old.refresh_from_db()
        old.timeframe = "4h"
        services.signal_save(signal=old)
    states = cell_states(api_client, paths)
    assert states["4h"] == states["closed"] == states["wins"] == "MISS"
    assert states["active"] == states["breakout"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):  # left the strategy
        services.signals_bulk_update(changes=[(old.pk, {"strategy": "breakout"})])
    states = cell_states(api_client, paths)
    assert states["breakout"] == states["4h"] == "MISS"
    assert states["active"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):
        services.signals_delete(queryset=Signal.objects.filter(pk=old.pk))
    states = cell_states(api_client, paths)
    assert states["breakout"] == states["closed"] == states["wins"] == "MISS"
    assert states["active"] == "HIT"
    with django_capture_on_commit_callbacks(execute=True):  # rows written around
        services.signals_rollup_rebuild()
    states = cell_states(api_client, paths)
    assert states["active"] == states["pair"] == "MISS"  # the cells of stored rows


# Random interleavings of writes through every service and reads of every kind of
# answer, through the DRF-level cache and the WSGI fast path: each read must equal
# the answer rendered afresh from the database at that moment.

READ_PATHS = (
    "/api/signals/",
    "/api/signals/feed/",
    "/api/signals/stats/",
    *(f"/api/signals/?pair={pair}" for pair in PAIRS),
    "/api/signals/stats/?pair=EUR/USD",
    "/api/signals/feed/?pair=GBP/USD,USD/JPY",
    "/api/signals/?pair=USD/JPY&status=closed",
    "/api/signals/?pair=EUR/USD&status=active",
    "/api/signals/stats/?pair=EUR/USD,GBP/USD&status=closed",
    "/api/signals/feed/?pair=GBP/USD&outcome=win",
    "/api/signals/stats/?pair=EUR/USD&outcome=loss&timeframe=1h",
    "/api/signals/?pair=USD/JPY&timeframe=4h",
    "/api/signals/?pair=EUR/USD,USD/JPY&strategy=manual",
    "/api/signals/?strategy=manual",
    "/api/signals/stats/?strategy=breakout,manual",
    "/api/signals/feed/?strategy=breakout&pair=EUR/USD",
)
pair = st.sampled_from(PAIRS)
nth = st.integers(0, 20)
# (status, outcome) a write may set: every cell of both columns gets entered and left.
STATES = (
    ("active", "pending"),
    ("closed", "win"),
    ("closed", "loss"),
    ("expired", "breakeven"),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("create"), pair),
        st.tuples(st.just("move"), nth, pair),
        st.tuples(st.just("confidence"), nth, st.integers(0, 100)),
        st.tuples(st.just("strategy"), nth, st.sampled_from(["manual", "breakout"])),
        st.tuples(st.just("timeframe"), nth, st.sampled_from(["1h", "4h"])),
        st.tuples(st.just("status"), nth, st.sampled_from(STATES)),
        st.tuples(st.just("admin save"), nth, st.sampled_from(STATES)),
        st.tuples(
            st.just("rebuild"),
        ),
        st.tuples(st.just("bulk move"), nth, nth, pair),
        st.tuples(st.just("resolve"), nth),
        st.tuples(st.just("delete"), nth),
        st.tuples(st.just("read"), st.sampled_from(READ_PATHS)),
        st.tuples(st.just("read detail"), nth),
    ),
    max_size=25,
)


def apply(step: tuple, hour: int) -> None:
    kind, *args = step
    ids = list(Signal.objects.order_by("pk").values_list("pk", flat=True))
    if kind == "create":
        create(args[0], hour)
        return
    if kind == "rebuild":
        services.signals_rollup_rebuild()
        return
    if not ids:
        return
    pk = ids[args[0] % len(ids)]
    if kind == "move":
        signal = Signal.objects.get(pk=pk)
        services.signal_update(signal=signal, data={"pair": args[1]})
    elif kind == "confidence":
        signal = Signal.objects.get(pk=pk)
        services.signal_update(signal=signal, data={"confidence": Decimal(args[1])})
    elif kind in ("strategy", "timeframe"):
        signal = Signal.objects.get(pk=pk)
        services.signal_update(signal=signal, data={kind: args[1]})
    elif kind == "status":
        status, outcome = args[1]
        signal = Signal.objects.get(pk=pk)
        services.signal_update(
            signal=signal, data={"status": status, "outcome": outcome}
        )
    elif kind == "admin save":
        signal = Signal.objects.get(pk=pk)
        signal.status, signal.outcome = args[1]
        services.signal_save(signal=signal)
    elif kind == "bulk move":
        other = ids[args[1] % len(ids)]
        changes = [(pk, {"pair": args[2]})] + ([(other, {})] if other != pk else [])
        services.signals_bulk_update(changes=changes)
    elif kind == "resolve":
        signal = Signal.objects.get(pk=pk)
        services.signals_resolve(
            resolutions=[
                services.Resolution(
                    signal_id=pk,
                    status="closed",
                    outcome="win",
                    exit_price=signal.take_profit,
                    pips=Decimal(20),
                    mae_pips=Decimal(-3),
                    mfe_pips=Decimal(20),
                    closed_at=signal.timestamp + timedelta(hours=2),
                )
            ]
        )
    elif kind == "delete":
        services.signals_delete(queryset=Signal.objects.filter(pk=pk))


def fresh(client, path: str):  # type: ignore[no-untyped-def]
    from django.test import override_settings

    with override_settings(ENABLE_CACHE=False):
        response = client.get(path)
    return response.status_code, response.content and response.json()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
def test_no_read_returns_an_answer_a_committed_write_changed(
    api_client, any_cache, django_capture_on_commit_callbacks, steps
):
    wsgi = Wsgi()
    with transaction.atomic():  # each example starts from the same database
        clear = getattr(cache, "delete_pattern", None)
        clear("*") if clear else cache.clear()
        for hour, step in enumerate(steps):
            if step[0].startswith("read"):
                if step[0] == "read":
                    path = step[1]
                else:
                    ids = list(Signal.objects.values_list("pk", flat=True))
                    path = f"/api/signals/{ids[step[1] % len(ids)] if ids else 1}/"
                expected = fresh(api_client, path)
                for _ in range(2):  # the second read of each is a hit
                    drf = api_client.get(path)
                    assert (drf.status_code, drf.content and drf.json()) == expected
                    fast = wsgi.get(path)
                    assert (fast.status, fast.content and fast.json()) == expected
            else:
                with django_capture_on_commit_callbacks(execute=True):
                    apply(step, hour)
        transaction.set_rollback(True)
