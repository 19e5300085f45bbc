"""The CSV export of journal entries: one line at a time, for a streaming answer.

Rows are read with `iterator()` (a server-side cursor on PostgreSQL) and their tags a
batch of rows at a time, so memory and queries stay bounded whatever the journal's
size. The header names our fields, so journal.parsers' `csv` format reads the file
back without a mapping.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from .querysets import API_FIELDS

# The list's fields (the entry's API shape), with its tags next to the setup.
_NOTES = API_FIELDS.index("notes")
COLUMNS = (*API_FIELDS[:_NOTES], "tags", *API_FIELDS[_NOTES:])
SOURCES = {"account": "account_id", "signal": "signal_id"}
BATCH = 1000
# A cell a spreadsheet would run as a formula starts with one of these.
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA) else text


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def export_lines(entries: QuerySet) -> Iterator[str]:
    """The entries as CSV lines, header first, newest `opened_at` first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(COLUMNS)
    fields = [SOURCES.get(name, name) for name in COLUMNS if name != "tags"]
    rows = (
        entries.order_by("-opened_at", "-id")
        .values_list(*fields)
        .iterator(chunk_size=BATCH)
    )
    links = entries.model.tags.through.objects
    tag_index = COLUMNS.index("tags")
    for batch in _batches(rows, BATCH):
        tags = defaultdict(list)
        found = links.filter(journalentry_id__in=[row[0] for row in batch])
        for entry_id, name in found.order_by("tag__name").values_list(
            "journalentry_id", "tag__name"
        ):
            tags[entry_id].append(name)
        for row in batch:
            cells = [*row[:tag_index], ",".join(tags[row[0]]), *row[tag_index:]]
            yield line(_cell(value) for value in cells)
