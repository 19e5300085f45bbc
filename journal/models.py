from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from core.vocabulary import pair_validator
from signals.choices import Direction, Outcome
from signals.models import PRICE

from .querysets import AccountQuerySet, JournalEntryQuerySet
from .trade import PIPS_DIGITS, PIPS_PLACES, PNL_DIGITS, PNL_PLACES, R_DIGITS, R_PLACES

# Sums of many pnl values: room for 10**32 in money, the pnl column's 8 places.
RUNNING = {"max_digits": 40, "decimal_places": PNL_PLACES}
PIPS_SUM = {"max_digits": 40, "decimal_places": PIPS_PLACES}
R_SUM = {"max_digits": 40, "decimal_places": R_PLACES}
R_SQUARES = {"max_digits": 60, "decimal_places": 2 * R_PLACES}


def timezone_validator(value: str) -> None:
    """An IANA time zone name zoneinfo knows (`UTC`, `Europe/London`)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(f"{value!r} is not an IANA time zone name.") from error


class Account(models.Model):
    """A user's trading account; every entry belongs to one of its owner's."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="journal_accounts",
    )
    name = models.CharField(max_length=100)
    broker = models.CharField(max_length=100, blank=True, default="")
    currency = models.CharField(
        max_length=3, blank=True, default="", help_text="ISO 4217 code, e.g. USD."
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[timezone_validator]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


# A tag: lower-case letters and digits, then up to 39 of those, space, _ or -.
TAG_PATTERN = r"[a-z0-9][a-z0-9 _-]{0,39}"
TAG_LIMIT = 20  # tags an entry


class Tag(models.Model):
    """One of a user's own labels for entries."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="journal_tags",
        db_index=False,
    )
    name = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="journal_tag_name")
        ]

    def __str__(self) -> str:
        return self.name


class JournalEntry(models.Model):
    # The (owner, …) indexes below lead with owner, so the FK needs none of its own.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="journal_entries",
        db_index=False,
    )
    # PROTECT: an account's entries go through the services (and their statistics)
    # before the account can go.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries"
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
    fees = models.DecimalField(
        max_digits=PNL_DIGITS,
        decimal_places=PNL_PLACES,
        default=Decimal(0),
        db_default=Decimal(0),
        help_text="Commission, ≥ 0.",
    )
    swap = models.DecimalField(
        max_digits=PNL_DIGITS,
        decimal_places=PNL_PLACES,
        default=Decimal(0),
        db_default=Decimal(0),
        help_text="Financing, signed: a credit is positive.",
    )
    gross_pnl = models.DecimalField(
        max_digits=PNL_DIGITS,
        decimal_places=PNL_PLACES,
        null=True,
        blank=True,
        help_text="Before costs.",
    )
    pnl = models.DecimalField(
        max_digits=PNL_DIGITS,
        decimal_places=PNL_PLACES,
        null=True,
        blank=True,
        help_text="Net: gross_pnl − fees + swap.",
    )
    pnl_manual = models.BooleanField(
        default=False,
        help_text=(
            "The gross pnl was given by hand (or as a net pnl) and is kept; else it "
            "is computed from the prices."
        ),
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
    # Excursions from the stored candles of the pair (journal.excursions): null
    # while open or where the candles do not cover the trade.
    mae_pips = models.DecimalField(
        max_digits=PIPS_DIGITS, decimal_places=PIPS_PLACES, null=True, blank=True,
        editable=False, help_text="Largest move against the trade, in pips (≥ 0).",
    )  # fmt: skip
    mfe_pips = models.DecimalField(
        max_digits=PIPS_DIGITS, decimal_places=PIPS_PLACES, null=True, blank=True,
        editable=False, help_text="Largest move for the trade, in pips (≥ 0).",
    )  # fmt: skip
    broker_ticket = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The broker's id of the trade, from an import: one entry an account.",
    )
    setup = models.CharField(max_length=100, blank=True, default="")
    tags = models.ManyToManyField(Tag, blank=True, related_name="entries")
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept by journal.rollup inside each write (PostgreSQL; null elsewhere and while
    # open): after this entry in the owner's closing order (closed_at, id), the sum of
    # pnl, its running peak (from 0), peak − equity, and the signed current streak
    # (+k: k-th win in a row, −k: k-th loss in a row, 0: breakeven).
    equity = models.DecimalField(**RUNNING, null=True, blank=True, editable=False)
    peak = models.DecimalField(**RUNNING, null=True, blank=True, editable=False)
    drawdown = models.DecimalField(**RUNNING, null=True, blank=True, editable=False)
    streak = models.IntegerField(null=True, blank=True, editable=False)

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
            models.UniqueConstraint(
                fields=["account", "broker_ticket"],
                condition=~Q(broker_ticket=""),
                name="journal_ticket_once_an_account",
            ),
            models.CheckConstraint(
                condition=Q(fees__gte=0),
                name="journal_fees_not_negative",
                violation_error_message="fees must not be negative.",
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
            # MAX(drawdown), MAX(streak) and MIN(streak) of an owner: one index probe.
            models.Index(
                fields=["owner", "drawdown"], name="idx_journal_owner_drawdown"
            ),
            models.Index(fields=["owner", "streak"], name="idx_journal_owner_streak"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.pair} @ {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class JournalRollup(models.Model):
    """One owner's entries of one pair closed in one UTC month ("" while open), summed.

    Kept by journal.rollup inside each write on PostgreSQL, so the unfiltered stats
    add up a few hundred of these instead of every entry. Every column is a plain
    aggregate of the bucket's entries (the stats' definitions, see querysets.py).
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False
    )
    pair = models.CharField(max_length=25)
    month = models.CharField(max_length=7, blank=True)
    entries = models.IntegerField()
    closed = models.IntegerField()
    wins = models.IntegerField()
    losses = models.IntegerField()
    breakevens = models.IntegerField()
    total_pnl = models.DecimalField(**RUNNING, null=True)
    # Costs and pnl before them, of the closed entries.
    total_fees = models.DecimalField(**RUNNING, null=True)
    total_swap = models.DecimalField(**RUNNING, null=True)
    total_gross = models.DecimalField(**RUNNING, null=True)
    gross_profit = models.DecimalField(**RUNNING, null=True)
    gross_loss = models.DecimalField(**RUNNING, null=True)
    win_pnl = models.DecimalField(**RUNNING, null=True)
    loss_pnl = models.DecimalField(**RUNNING, null=True)
    largest_win = models.DecimalField(**RUNNING, null=True)
    largest_loss = models.DecimalField(**RUNNING, null=True)
    total_pips = models.DecimalField(**PIPS_SUM, null=True)
    r_count = models.IntegerField()
    r_sum = models.DecimalField(**R_SUM, null=True)
    r_squares = models.DecimalField(**R_SQUARES, null=True)
    r_min = models.DecimalField(**R_SUM, null=True)
    r_max = models.DecimalField(**R_SUM, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "pair", "month"], name="journal_rollup_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.pair} {self.month or 'open'}"


class Import(models.Model):
    """A file of trades to import into one account, and how its import went."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=16)
    mapping = models.JSONField(default=dict, blank=True)
    atomic = models.BooleanField(default=True)
    # The file until the import has run (a worker may be another process).
    content = models.BinaryField(default=b"", editable=False)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.FloatField(default=0.0, help_text="Share of the file read.")
    created = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    refused = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"import {self.pk} ({self.format}, {self.status})"
