"""Stat: a frozen partition that holds no object references (what ``heapu()`` returns).

It keeps only the numbers and kind names of each row, so reporting objects never keeps
them alive. The full Stat algebra (difference tables, dump/load) builds on this.
"""

from __future__ import annotations

import time

from .tables import PAGE_ROWS, Everything, Page, Table, set_table


class Stat:
    """Rows ``(kind name, count, size)`` of a partition, without the objects."""

    __slots__ = ("count", "size", "kindheader", "rows", "timemade", "_table")

    def __init__(self, count: int, size: int, kindheader: str, rows: list[tuple[str, int, int]]) -> None:
        self.count = count
        self.size = size
        self.kindheader = kindheader
        self.rows = rows
        self.timemade = time.time()
        self._table: Table | None = None

    def _get_table(self) -> Table:
        if self._table is None:
            self._table = set_table(self.count, self.size, self.kindheader, self.rows)
        return self._table

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return self._get_table().first_page()

    __str__ = __repr__

    @property
    def more(self) -> Page:
        return Page(self._get_table(), PAGE_ROWS)

    @property
    def all(self) -> Everything:
        return Everything(self._get_table())
