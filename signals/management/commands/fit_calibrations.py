from typing import Any

from django.core.management.base import BaseCommand

from signals.calibrations import calibrations_refit


class Command(BaseCommand):
    help = (
        "Fit a new calibration version for every registered strategy and timeframe "
        "with outcomes resolved since its last one (stored signals never change)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        fitted = calibrations_refit()
        for row in fitted:
            self.stdout.write(
                f"{row.strategy} {row.timeframe}: {row.method} on {row.count} "
                f"outcomes up to {row.outcomes_until:%Y-%m-%d %H:%M}, base rate "
                f"{row.base_rate:.3f} (calibration {row.pk})"
            )
        self.stdout.write(f"{len(fitted)} calibration(s) fitted")
