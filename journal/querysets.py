"""Reads of journal entries: the owner scope, the filters and the statistics."""

from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    Sum,
    Window,
)
from django.db.models.functions import Cast, ExtractHour, ExtractIsoWeekDay, Floor

from .breakdowns import breakdowns
from .rollup_stats import owner_stats_rows, unfiltered_owner
from .trade import WIN
from .window_stats import stats_answer, window_stats

API_FIELDS = (
    "id",
    "account",
    "signal",
    "pair",
    "direction",
    "entry_price",
    "exit_price",
    "stop_loss",
    "take_profit",
    "quantity",
    "opened_at",
    "closed_at",
    "fees",
    "swap",
    "gross_pnl",
    "pnl",
    "pips",
    "r_multiple",
    "mae_pips",
    "mfe_pips",
    "outcome",
    "setup",
    "notes",
    "created_at",
    "updated_at",
)
# The columns the statistics read, in the order of window_stats' `base` CTE.
STATS_COLUMNS = (
    "id",
    "pair",
    "outcome",
    "closed_at",
    "pnl",
    "pips",
    "r_multiple",
    "fees",
    "swap",
    "gross_pnl",
)


class AccountQuerySet(models.QuerySet):
    def for_owner(self, user: Any) -> "AccountQuerySet":
        """Accounts of one user (a user or a user id)."""
        return self.filter(owner_id=getattr(user, "pk", user))


class JournalEntryQuerySet(models.QuerySet):
    def for_owner(self, user: Any) -> "JournalEntryQuerySet":
        """Entries of one user (a user or a user id)."""
        return self.filter(owner_id=getattr(user, "pk", user))

    def for_api(self) -> "JournalEntryQuerySet":
        """The columns of the API's entry shape, newest `opened_at` first, with the
        entries' tags (one more query, whatever the page's size)."""
        tags = self.model.tags.field.related_model.objects.order_by("name")
        return (
            self.only(*API_FIELDS)
            .prefetch_related(Prefetch("tags", queryset=tags.only("id", "name")))
            .order_by("-opened_at", "-id")
        )

    def with_tags(self, names: list[str], mode: str = "any") -> "JournalEntryQuerySet":
        """Entries with any (mode "any") or every (mode "all") of these tags."""
        links = self.model.tags.through.objects.filter(journalentry_id=OuterRef("pk"))
        if mode == "all":
            return self.filter(
                *(Exists(links.filter(tag__name=name)) for name in set(names))
            )
        return self.filter(Exists(links.filter(tag__name__in=names)))

    def closed(self) -> "JournalEntryQuerySet":
        return self.filter(closed_at__isnull=False)

    def open(self) -> "JournalEntryQuerySet":
        return self.filter(closed_at__isnull=True)

    def in_period(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> "JournalEntryQuerySet":
        """Closed entries by closed_at, open ones by opened_at; bounds inclusive."""
        if since is None and until is None:
            return self
        closed, opened = Q(closed_at__isnull=False), Q(closed_at__isnull=True)
        if since is not None:
            closed &= Q(closed_at__gte=since)
            opened &= Q(opened_at__gte=since)
        if until is not None:
            closed &= Q(closed_at__lte=until)
            opened &= Q(opened_at__lte=until)
        return self.filter(closed | opened)

    def equity_curve(self) -> list[dict[str, Any]]:
        """Closed entries in closing order with cumulative pnl (a window sum) and
        the drawdown from its running peak (which starts at 0, as in stats())."""
        rows = (
            self.closed()
            .order_by("closed_at", "id")
            .annotate(
                running=Window(
                    Sum(Cast("pnl", FloatField())),
                    order_by=[F("closed_at").asc(), F("id").asc()],
                )
            )
            .values_list("id", "closed_at", "running")
        )
        peak, curve = 0.0, []
        for pk, closed_at, equity in rows:
            peak = max(peak, equity)
            curve.append(
                {
                    "id": pk,
                    "closed_at": closed_at,
                    "equity": equity,
                    "drawdown": equity - peak,
                }
            )
        return curve

    def r_histogram(self, width: float = 0.5) -> list[dict[str, Any]]:
        """Closed entries with an R multiple, counted per bucket [low, low + width)."""
        return list(
            self.closed()
            .filter(r_multiple__isnull=False)
            .order_by()
            .annotate(bucket=Floor(Cast("r_multiple", FloatField()) / width))
            .values("bucket")
            .annotate(trades=Count("id"))
            .order_by("bucket")
        )

    def by_setup(self) -> list[dict[str, Any]]:
        """Closed entries per setup: trades, wins, pnl and mean R."""
        return list(
            self.closed()
            .order_by()
            .values("setup")
            .annotate(
                trades=Count("id"),
                wins=Count("id", filter=Q(outcome=WIN)),
                total_pnl=Sum(Cast("pnl", FloatField())),
                avg_r=Avg(Cast("r_multiple", FloatField())),
            )
            .order_by("setup")
        )

    def by_weekday_hour(self) -> list[dict[str, Any]]:
        """Closed entries per ISO weekday (1 = Monday) and hour of opening, UTC."""
        return list(
            self.closed()
            .order_by()
            .annotate(
                weekday=ExtractIsoWeekDay("opened_at"), hour=ExtractHour("opened_at")
            )
            .values("weekday", "hour")
            .annotate(
                trades=Count("id"),
                wins=Count("id", filter=Q(outcome=WIN)),
                total_pnl=Sum(Cast("pnl", FloatField())),
            )
            .order_by("weekday", "hour")
        )

    def stats(self) -> dict[str, Any]:
        """The contract's statistics of these entries: the totals (`totals`) and
        the breakdowns of journal.breakdowns (two queries more)."""
        return {**self.totals(), **breakdowns(self)}

    def totals(self) -> dict[str, Any]:
        """The contract's statistics but the breakdowns, in three queries.

        One statement for the totals (aggregates), the drawdown (a running sum and a
        running peak in closing order) and the streaks (gaps and islands), both from
        window functions over one walk of the closed trades; one GROUP BY pair and
        one GROUP BY month. Money and pips are summed exactly: numeric on
        PostgreSQL, integer units on SQLite. Exactly `for_owner(id)` on PostgreSQL
        is answered in one query from the state the writes maintain
        (journal.rollup_stats); any filter falls back to these statements
        (journal.window_stats).
        """
        if (owner_id := unfiltered_owner(self)) is not None:
            return stats_answer(*owner_stats_rows(owner_id), "postgresql")
        try:
            base, params = (
                self.order_by().values_list(*STATS_COLUMNS).query.sql_with_params()
            )
        except EmptyResultSet:
            return stats_answer(None, [], [], connection.vendor)
        return window_stats(base, params)
