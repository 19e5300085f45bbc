from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signals.generation import signals_generate
from signals.serializers import GenerateRequestSerializer
from signals.tasks import generate


class Command(BaseCommand):
    help = (
        "Run the signal generator (as POST /api/signals/generate/), for cron. "
        "Idempotent: a candle already used for a signal gives no second one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pairs", help="comma separated, default SIGNAL_PAIRS")
        parser.add_argument("--timeframe", help="default SIGNAL_TIMEFRAME")
        parser.add_argument(
            "--async",
            dest="enqueue",
            action="store_true",
            help="enqueue the run for the workers (in chunks) instead of running here",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data: dict[str, Any] = {}
        if options["pairs"]:
            data["pairs"] = [
                p.strip() for p in options["pairs"].split(",") if p.strip()
            ]
        if options["timeframe"]:
            data["timeframe"] = options["timeframe"]
        request = GenerateRequestSerializer(data=data)
        if not request.is_valid():
            raise CommandError(request.errors)
        if options["enqueue"]:
            pairs = request.validated_data.get("pairs")
            timeframe = request.validated_data.get("timeframe")
            generate.delay(timeframe, pairs)
            self.stdout.write("enqueued generation for the workers")
            return
        result = signals_generate(**request.validated_data)
        for signal in result.generated:
            self.stdout.write(
                f"generated #{signal.pk}: {signal.direction} {signal.pair} "
                f"{signal.timeframe} @ {signal.entry_price} "
                f"(stop {signal.stop_loss}, target {signal.take_profit}, "
                f"confidence {signal.confidence})"
            )
        for skipped in result.skipped:
            self.stdout.write(f"skipped {skipped['pair']}: {skipped['reason']}")
        self.stdout.write(
            f"{len(result.generated)} generated, {len(result.skipped)} skipped "
            f"in {result.duration_ms:.1f} ms"
        )
