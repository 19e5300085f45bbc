"""The rows of the tables of an HTML document, read as it streams in: no Django.

MetaTrader's statements (journal.parsers' `mt4_html` and `mt5_html`) are HTML tables.
`table_rows(lines)` feeds the document to the standard library's HTMLParser a line at
a time and yields each table row as (its first line, its cells' text), so a large
statement never sits in memory as a whole. A cell spanning several columns
(colspan) is followed by empty cells, so the columns after it keep their place.
Entities are decoded, whitespace runs collapsed.
"""

import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser

SPACES = re.compile(r"\s+")
MAX_SPAN = 64  # a larger colspan is taken as this many columns


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.done: list[tuple[int, list[str]]] = []
        self.row: list[str] | None = None
        self.row_line = 0
        self.cell: list[str] | None = None
        self.span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._end_row()
            self.row, self.row_line = [], self.getpos()[0]
        elif tag in ("td", "th"):
            self._end_cell()
            if self.row is None:  # a cell outside any row: a row of its own
                self.row, self.row_line = [], self.getpos()[0]
            self.cell = []
            span = dict(attrs).get("colspan") or "1"
            self.span = min(int(span), MAX_SPAN) if span.strip().isdigit() else 1
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._end_cell()
        elif tag in ("tr", "table"):
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def _end_cell(self) -> None:
        if self.cell is None or self.row is None:
            return
        self.row.append(SPACES.sub(" ", "".join(self.cell)).strip())
        self.row.extend([""] * (max(self.span, 1) - 1))
        self.cell, self.span = None, 1

    def _end_row(self) -> None:
        self._end_cell()
        if self.row:
            self.done.append((self.row_line, self.row))
        self.row = None


def table_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every table row of the document, in order."""
    parser = _Rows()
    for line in lines:
        parser.feed(line)
        if parser.done:
            yield from parser.done
            parser.done = []
    parser.close()
    parser._end_row()
    yield from parser.done
