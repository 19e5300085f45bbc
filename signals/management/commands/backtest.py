import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from signals.backtest.html import report_html
from signals.backtest.runs import (
    BacktestError,
    BacktestOptions,
    backtest_report,
    lookahead_failure,
)
from signals.backtest.serializers import BacktestRequestSerializer


class Command(BaseCommand):
    help = (
        "Replay stored candles through the signal generator and outcome rules, "
        "writing no signal, and report overall and per walk-forward fold. With "
        "--optimize the period is cut into N+1 parts: the first only trains, each "
        "later fold uses the grid's parameter set with the best expectancy (R) on "
        "the candles before it. Fails when the lookahead audit finds a mismatch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pair", required=True, help="e.g. EUR/USD")
        parser.add_argument("--timeframe", required=True, help="1m … 1d")
        parser.add_argument("--since", help="first signal candle (date or time, UTC)")
        parser.add_argument("--until", help="last candle used (date or time, UTC)")
        parser.add_argument("--folds", default="5", help="walk-forward folds (5)")
        parser.add_argument(
            "--optimize",
            help="parameter grid, e.g. 'min_adx=15,20,25;risk_reward=1.5,2'",
        )
        parser.add_argument(
            "--strategy", help="registered strategy to replay (trend_momentum)"
        )
        parser.add_argument("--json", type=Path, help="write the report as JSON here")
        parser.add_argument("--html", type=Path, help="write the report page here")

    def handle(self, *args: Any, **options: Any) -> None:
        names = ("pair", "timeframe", "since", "until", "folds", "optimize", "strategy")
        given = {name: options[name] for name in names if options[name] is not None}
        request = BacktestRequestSerializer(data=given)
        if not request.is_valid():
            field, messages = next(iter(request.errors.items()))
            raise CommandError(f"--{field}: {' '.join(map(str, messages))}")
        for name in ("json", "html"):
            path = options[name]
            if path is not None and not path.parent.is_dir():
                raise CommandError(f"--{name}: no directory {path.parent}")

        def progress(fraction: float, message: str) -> None:
            sys.stderr.write(f"\r{fraction:6.1%} {message:<30}")
            if fraction >= 1.0:
                sys.stderr.write("\n")
            sys.stderr.flush()

        run = BacktestOptions(**request.validated_data)
        try:
            report = backtest_report(options=run, progress=progress)
        except BacktestError as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            options["json"].write_text(json.dumps(report, indent=1), encoding="utf-8")
        if options["html"]:
            title = f"Backtest {run.strategy} {run.pair} {run.timeframe}"
            options["html"].write_text(report_html(report, title=title), "utf-8")
        self._summary(report)
        failure = lookahead_failure(report)
        if failure:
            raise CommandError(failure)

    def _summary(self, report: dict[str, Any]) -> None:
        self.stdout.write(_line("overall", report["overall"]))
        for number, fold in enumerate(report["folds"], start=1):
            text = _line(f"fold {number}", fold)
            if fold["in_sample"] is not None:
                params = ",".join(f"{k}={v}" for k, v in fold["params"].items())
                in_sample = _fmt(fold["in_sample"]["expectancy_r"], "+.3f")
                text += f"  [{params}; in-sample expectancy {in_sample}R]"
            self.stdout.write(text)
        look = report["lookahead"]
        self.stdout.write(
            f"lookahead audit: {look['mismatches']} mismatches in {look['checked']}"
        )
        changes = report["warmup"].items()
        self.stdout.write(
            "warm-up audit: " + ", ".join(f"{k} {_fmt(v, '.1e')}" for k, v in changes)
        )


def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _line(label: str, s: dict[str, Any]) -> str:
    """One line of statistics for the terminal."""
    return (
        f"{label:<8} signals {s['signals']:>5}  win rate {_fmt(s['win_rate'], '.1%')}"
        f"  expectancy {_fmt(s['expectancy_r'], '+.3f')}R"
        f"  PF {_fmt(s['profit_factor'], '.2f')}  pips {s['total_pips']:+.1f}"
        f"  max DD {s['max_drawdown_pips']:.1f}"
        f"  Brier {_fmt(s['brier_score'], '.3f')}"
        f"  skill {_fmt(s['calibration'].get('brier_skill_score'), '+.3f')}"
        f"  ECE {_fmt(s['calibration'].get('calibration_error'), '.1f')}"
    )
