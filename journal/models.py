from django.conf import settings
from django.db import models
from django.db.models import F, Q

from market.validators import pair_validator
from signals.choices import Direction, Outcome
from signals.models import PRICE

from .querysets import JournalEntryQuerySet
from .trade import PIPS_DIGITS, PIPS_PLACES, PNL_DIGITS, PNL_PLACES, R_DIGITS, R_PLACES


class JournalEntry(models.Model):
    # The (owner, …) indexes below lead with owner, so the FK needs none of its own.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="journal_entries",
        db_index=False,
    )
    signal = models.ForeignKey(
        "signals.Signal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="journal_entries",
    )
    pair = models.CharField(max_length=25, validators=[pair_validator])
    direction = models.CharField(max_length=4, choices=Direction.choices)
    entry_price = models.DecimalField(**PRICE)
    exit_price = models.DecimalField(null=True, blank=True, **PRICE)
    stop_loss = models.DecimalField(null=True, blank=True, **PRICE)
    take_profit = models.DecimalField(null=True, blank=True, **PRICE)
    quantity = models.DecimalField(**PRICE)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    pnl = models.DecimalField(
        max_digits=PNL_DIGITS, decimal_places=PNL_PLACES, null=True, blank=True
    )
    pnl_manual = models.BooleanField(
        default=False,
        help_text="The pnl was given by hand and is kept; else it is computed.",
    )
    pips = models.DecimalField(
        max_digits=PIPS_DIGITS, decimal_places=PIPS_PLACES, null=True, blank=True
    )
    r_multiple = models.DecimalField(
        max_digits=R_DIGITS, decimal_places=R_PLACES, null=True, blank=True
    )
    outcome = models.CharField(
        max_length=9, choices=Outcome.choices, default=Outcome.PENDING
    )
    setup = models.CharField(max_length=100, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JournalEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="journal_quantity_positive",
                violation_error_message="quantity must be greater than 0.",
            ),
            models.CheckConstraint(
                condition=Q(exit_price__isnull=True, closed_at__isnull=True)
                | Q(exit_price__isnull=False, closed_at__isnull=False),
                name="journal_exit_and_close_together",
                violation_error_message=(
                    "exit_price and closed_at are given together or not at all."
                ),
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="journal_closed_not_before_opened",
                violation_error_message="closed_at must not be before opened_at.",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True, outcome=Outcome.PENDING)
                | (Q(closed_at__isnull=False) & ~Q(outcome=Outcome.PENDING)),
                name="journal_pending_while_open",
                violation_error_message=(
                    "outcome is pending exactly while the entry is open."
                ),
            ),
        ]
        indexes = [
            # The list: own entries newest first.
            models.Index(
                fields=["owner", "-opened_at", "-id"], name="idx_journal_owner_opened"
            ),
            # The stats: own closed entries in closing order.
            models.Index(
                fields=["owner", "closed_at", "id"], name="idx_journal_owner_closed"
            ),
            models.Index(
                fields=["owner", "pair", "closed_at"],
                name="idx_journal_owner_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.pair} @ {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None
