"""The Celery wiring: the beat schedule (also run by manage.py run_schedule)."""

from alphaforge.celery import beat_schedule


def test_the_schedule_generates_after_each_candle_close_and_backfills(settings):
    settings.SIGNAL_TIMEFRAMES = ["1h", "4h", "15m"]
    settings.BACKFILL_EVERY_MINUTES = 5
    schedule = beat_schedule()
    assert set(schedule) == {
        "generate-1h",
        "generate-4h",
        "generate-15m",
        "backfill",
        "prune-events",
        "prune-idempotency",
        "fit-calibrations",
        "webhooks-sweep",
    }
    assert schedule["prune-events"]["task"] == "events.prune"
    assert schedule["prune-idempotency"]["task"] == "api.prune_idempotency"
    assert schedule["webhooks-sweep"]["schedule"].run_every.total_seconds() == 1
    hourly = schedule["generate-1h"]
    assert hourly["task"] == "signals.generate" and hourly["args"] == ("1h",)
    assert hourly["options"]["countdown"] == settings.GENERATION_DELAY_SECONDS
    assert hourly["schedule"].minute == {0}
    assert schedule["generate-4h"]["schedule"].hour == {0, 4, 8, 12, 16, 20}
    assert schedule["generate-15m"]["schedule"].minute == {0, 15, 30, 45}
    assert schedule["backfill"]["schedule"].minute == set(range(0, 60, 5))
