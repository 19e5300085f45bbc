"""Tasks on the embedded default: no broker, so they run where they are sent.

(Real workers over Redis: tests/test_workers.py.)
"""

import pytest
from django.core.management import call_command

from alphaforge.celery import beat_schedule
from market.tests.factories import candles_create
from signals import tasks
from signals.models import Signal
from signals.tests.test_generation import wave_trend

pytestmark = pytest.mark.django_db


def test_generate_fans_out_in_chunks_and_runs_eagerly_without_a_broker(settings):
    settings.GENERATION_CHUNK_SIZE = 2
    pairs = ["AAA/USD", "BBB/USD", "CCC/USD"]
    for pair in pairs:
        candles_create(pair, *wave_trend(1.0))
    assert tasks.generate.delay("1h", pairs).get() == 2  # chunks
    assert sorted(Signal.objects.values_list("pair", flat=True)) == pairs
    tasks.generate.delay("1h", pairs)  # again: the unique key makes it a no-op
    assert Signal.objects.count() == 3


def test_generate_signals_async_enqueues_the_run(settings, capsys):
    candles_create("AAA/USD", *wave_trend(-1.0))
    call_command("generate_signals", "--pairs", "AAA/USD", "--async")
    assert "enqueued" in capsys.readouterr().out
    assert Signal.objects.get().direction == "sell"


def test_backfill_outcomes_async_refuses_dry_run():
    with pytest.raises(Exception, match="--async and --dry-run"):
        call_command("backfill_outcomes", "--async", "--dry-run")


def test_the_schedule_generates_after_each_candle_close_and_backfills(settings):
    settings.SIGNAL_TIMEFRAMES = ["1h", "4h", "15m"]
    settings.BACKFILL_EVERY_MINUTES = 5
    schedule = beat_schedule()
    assert set(schedule) == {
        "generate-1h",
        "generate-4h",
        "generate-15m",
        "backfill",
        "webhooks-sweep",
    }
    assert schedule["webhooks-sweep"]["schedule"].run_every.total_seconds() == 1
    hourly = schedule["generate-1h"]
    assert hourly["task"] == "signals.generate" and hourly["args"] == ("1h",)
    assert hourly["options"]["countdown"] == settings.GENERATION_DELAY_SECONDS
    assert hourly["schedule"].minute == {0}
    assert schedule["generate-4h"]["schedule"].hour == {0, 4, 8, 12, 16, 20}
    assert schedule["generate-15m"]["schedule"].minute == {0, 15, 30, 45}
    assert schedule["backfill"]["schedule"].minute == set(range(0, 60, 5))
