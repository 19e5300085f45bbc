"""Background tasks of the signal pipeline (Celery); each is safe to run twice.

- generation: the unique key (pair, timeframe, strategy, timestamp) makes a second
  run on the same candle create nothing;
- backfill: it only writes signals still active, so a rerun changes nothing;
- backtest: a rerun starts the report again from its options.
A worker lost mid-task leaves the message unacknowledged (acks_late), so another
worker runs it again.
"""

import logging
from collections.abc import Sequence

from celery import group
from django.conf import settings

from core.background import shared_task

from .backtest.runs import backtest_run
from .calibrations import calibrations_refit
from .generation import signals_generate
from .outcomes import outcomes_backfill

logger = logging.getLogger(__name__)


@shared_task(name="signals.generate_chunk")
def generate_chunk(pairs: Sequence[str], timeframe: str) -> dict[str, int]:
    """Generate for one chunk of pairs; returns how many were generated and skipped."""
    logger.info("generating %d pairs on %s", len(pairs), timeframe)
    result = signals_generate(pairs=list(pairs), timeframe=timeframe)
    return {"generated": len(result.generated), "skipped": len(result.skipped)}


@shared_task(name="signals.generate")
def generate(timeframe: str | None = None, pairs: Sequence[str] | None = None) -> int:
    """Fan a generation run out in chunks of GENERATION_CHUNK_SIZE pairs, one task
    a chunk, so every worker takes a share; returns the number of chunks."""
    pairs = list(dict.fromkeys(pairs or settings.SIGNAL_PAIRS))
    timeframe = timeframe or settings.SIGNAL_TIMEFRAME
    size = max(1, settings.GENERATION_CHUNK_SIZE)
    chunks = [pairs[start : start + size] for start in range(0, len(pairs), size)]
    group(generate_chunk.s(chunk, timeframe) for chunk in chunks).apply_async()
    return len(chunks)


@shared_task(name="signals.backfill")
def backfill(pair: str | None = None) -> dict[str, int]:
    """Resolve active signals against the stored candles."""
    report = outcomes_backfill(pair=pair)
    return {"examined": report.examined, "resolved": report.resolved}


@shared_task(name="signals.backtest")
def backtest(backtest_id: int) -> None:
    """Run a backtest asked for over the API (progress and report on its row)."""
    backtest_run(backtest_id=backtest_id)


@shared_task(name="signals.fit_calibrations")
def fit_calibrations() -> int:
    """Fit new calibration versions where outcomes were resolved since the last."""
    return len(calibrations_refit())
