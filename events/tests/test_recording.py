"""Every writer of signals logs its events in the same transaction (signals.services)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.utils.encoders import JSONEncoder

from events.models import Event
from events.services import events_record
from market.tests.factories import START, candles_create
from signals.generation import signals_generate
from signals.models import Signal
from signals.services import signals_insert, signals_resolve
from signals.tests.factories import SignalFactory, signal_payload
from signals.tests.test_admin import admin_form
from signals.tests.test_generation import wave_trend

pytestmark = pytest.mark.django_db


def logged() -> list[tuple[str, int]]:
    return [(event.type, event.data["id"]) for event in Event.objects.order_by("id")]


def test_api_create_logs_created_with_the_detail_form(staff_client):
    response = staff_client.post("/api/signals/", signal_payload(), format="json")
    assert response.status_code == 201
    event = Event.objects.get()
    assert event.type == "signal.created"
    detail = staff_client.get(f"/api/signals/{response.json()['id']}/").json()
    assert event.data == detail
    assert (event.pair, event.timeframe, float(event.confidence)) == (
        "EUR/USD",
        "1h",
        72.5,
    )


def test_api_patch_logs_updated_then_resolved_when_status_leaves_active(
    staff_client,
):
    signal = SignalFactory()
    url = f"/api/signals/{signal.id}/"
    assert staff_client.patch(url, {"confidence": 80}, format="json").status_code == 200
    response = staff_client.patch(url, {"status": "cancelled"}, format="json")
    assert response.status_code == 200
    assert logged() == [("signal.updated", signal.id), ("signal.resolved", signal.id)]
    assert Event.objects.last().data == staff_client.get(url).json()


def test_bulk_create_and_bulk_patch_log_one_event_each(staff_client):
    items = [signal_payload(timestamp=f"2026-01-05T{h:02}:00:00Z") for h in range(3)]
    response = staff_client.post("/api/signals/bulk/", items, format="json")
    assert response.status_code == 201
    ids = [Signal.objects.get(timestamp__hour=h).id for h in range(3)]
    changes = [
        {"id": ids[0], "confidence": 90},
        {"id": ids[1], "status": "expired"},
        {"id": ids[2], "reasoning": "why"},
    ]
    response = staff_client.patch("/api/signals/bulk/", changes, format="json")
    assert response.status_code == 200
    assert logged()[3:] == [
        ("signal.updated", ids[0]),
        ("signal.resolved", ids[1]),
        ("signal.updated", ids[2]),
    ]
    assert {t for t, _ in logged()[:3]} == {"signal.created"}
    for event in Event.objects.filter(type__in=["signal.updated", "signal.resolved"]):
        detail = staff_client.get(f"/api/signals/{event.data['id']}/").json()
        assert event.data == detail


def _queries(write) -> list[str]:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        write()
    return [query["sql"] for query in captured.captured_queries]


def _log_writes(queries: list[str]) -> int:
    """Statements of the event log: PostgreSQL takes the ids from the sequence,
    then COPYs; SQLite inserts, then writes the JSON (one executemany)."""
    return len([q for q in queries if "events_event" in q])


@pytest.mark.parametrize("count", [5, 60])
def test_bulk_writes_log_their_events_in_one_insert_whatever_the_batch(count):
    signals = [
        SignalFactory.build(timestamp=START + timedelta(hours=n)) for n in range(count)
    ]
    queries = _queries(lambda: signals_insert(signals=signals))
    assert _log_writes(queries) == 2
    assert len(queries) <= 8  # no query per signal (1 keeps the stats rollup)
    from signals.services import Resolution

    resolutions = [
        Resolution(s.id, "closed", "win", 1.11, 100, 0, 100, START) for s in signals
    ]
    queries = _queries(lambda: signals_resolve(resolutions=resolutions))
    assert _log_writes(queries) == 2
    # The same for 5 or 60 signals (3 of them keep the stats rollup).
    assert len(queries) <= 13
    assert Event.objects.filter(type="signal.resolved").count() == count


def test_admin_add_and_change_log_created_updated_and_resolved(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    response = client.post("/admin/signals/signal/add/", admin_form())
    assert response.status_code == 302
    signal = Signal.objects.get()
    url = f"/admin/signals/signal/{signal.id}/change/"
    assert client.post(url, admin_form(confidence="70")).status_code == 302
    assert client.post(url, admin_form(status="closed")).status_code == 302
    assert logged() == [
        ("signal.created", signal.id),
        ("signal.updated", signal.id),
        ("signal.resolved", signal.id),
    ]
    assert Event.objects.last().data["status"] == "closed"


def test_generator_logs_created():
    candles_create("EUR/USD", *wave_trend(1))
    result = signals_generate(pairs=["EUR/USD"], timeframe="1h")
    assert [t for t, _ in logged()] == ["signal.created"] * len(result.generated)
    assert len(result.generated) == 1


def test_backfill_logs_resolved_with_the_stored_signal():
    signal = SignalFactory(timestamp=START)
    candles_create("EUR/USD", (1.1, 1.12), (1.1, 1.099), (1.1, 1.115), open_=(1.1, 1.1))
    call_command("backfill_outcomes")
    signal.refresh_from_db()
    assert signal.status == "closed"
    event = Event.objects.get()
    assert event.type == "signal.resolved" and event.data["id"] == signal.id
    assert event.data["outcome"] == signal.outcome == "win"
    assert event.data["exit_price"] == float(signal.exit_price)


def test_resolution_of_a_signal_closed_meanwhile_logs_nothing():
    signal = SignalFactory(status="cancelled")
    from signals.services import Resolution

    written = signals_resolve(
        resolutions=[Resolution(signal.id, "closed", "win", 1.11, 100, 0, 100, START)]
    )
    assert written == 0 and not Event.objects.exists()


def test_seed_demo_command_logs_every_signal_it_creates_and_resolves():
    call_command("seed_demo", "--candles", "700")
    created = Event.objects.filter(type="signal.created").count()
    assert created == Signal.objects.count() > 0
    resolved = {
        event.data["id"] for event in Event.objects.filter(type="signal.resolved")
    }
    assert resolved == set(
        Signal.objects.exclude(status="active").values_list("id", flat=True)
    )


def test_a_rolled_back_write_leaves_no_event():
    with pytest.raises(RuntimeError), transaction.atomic():
        signals_insert(signals=[SignalFactory.build()])
        assert Event.objects.count() == 1
        raise RuntimeError
    assert not Event.objects.exists() and not Signal.objects.exists()


def test_events_record_stores_each_payload_as_given_with_ids_in_input_order():
    awkward = [
        {"pair": "EUR/USD", "timeframe": "1h", "confidence": "72.50", "n": 1},
        {"pair": "X'Y/\\Z", "quote": 'say "hi" \\n', "unicode": "é€😀", "n": 2},
        {"pair": "", "nested": {"list": [1, 2.5, None, True]}, "price": Decimal("1.1")},
        {"confidence": 99.999, "empty": {}, "braces": "{a,b}"},
    ]
    created = events_record(events=[("signal.created", p) for p in awkward])
    stored = list(Event.objects.order_by("id"))
    assert [event.id for event in created] == [event.id for event in stored]
    # The reference: the data column's own encoder, decoded again.
    assert [event.data for event in stored] == [
        json.loads(json.dumps(p, cls=JSONEncoder)) for p in awkward
    ]
    assert [(e.pair, e.timeframe, e.confidence) for e in stored] == [
        ("EUR/USD", "1h", Decimal("72.50")),
        ("X'Y/\\Z", "", None),
        ("", "", None),
        ("", "", Decimal("100.00")),
    ]


def test_an_event_remembers_the_request_that_caused_it(staff_client):
    from signals.tests.factories import signal_payload

    response = staff_client.post(
        "/api/signals/", signal_payload(), format="json", HTTP_X_REQUEST_ID="cause-7"
    )
    assert response.status_code == 201
    (event,) = [e for e in Event.objects.all() if e.data["id"] == response.json()["id"]]
    assert (event.request_id, event.trace_parent) == ("cause-7", "")


def test_events_recorded_outside_a_request_carry_no_request_id():
    with transaction.atomic():
        (event,) = events_record(events=[("signal.created", {"pair": "EUR/USD"})])
    assert Event.objects.get(pk=event.id).request_id == ""
