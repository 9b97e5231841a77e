"""Heapy's printed tables, line for line, with paging.

A table has a label line, a column header and rows; it prints its first ten rows and
``<N more rows. Type e.g. '_.more' to view.>``. ``.more`` gives the next page (header
and rows), ``.all`` every row. As in Heapy, a page never ends one row before the end: the
last row is shown rather than ``<1 more rows ...>`` (:func:`page_end`), and a page past
the end prints nothing. Rows are formatted only when shown, so a byid table of a whole
heap costs nothing until it is printed.
"""

from __future__ import annotations

import textwrap
from typing import Any, Callable, Sequence

from .hidden import hidden_type

LINE_LENGTH = 100
PAGE_ROWS = 10

SET_HEADER = " Index  Count   %     Size   % Cumulative  % "
ID_HEADER = " Index     Size   %   Cumulative  %   "


def _pct(part: int, total: int) -> int:
    # Heapy rounds with '%.0f' (half to even); keep that exactly.
    return int("%.0f" % (part * 100.0 / total)) if total else 0


def _wrap_row(prefix: str, name: str) -> str:
    lines = name.split("\n")
    indent = " " * len(prefix)
    out = textwrap.wrap(prefix + lines[0], width=LINE_LENGTH, subsequent_indent=indent) or [prefix]
    for extra in lines[1:]:
        out.extend(textwrap.wrap(extra, width=LINE_LENGTH, initial_indent=indent, subsequent_indent=indent))
    return "\n".join(out)


@hidden_type
class PagedRows(Sequence):  # type: ignore[type-arg]
    """A table's rows fetched a page at a time when shown (``fetch(start, stop)``): a
    partition by Via or Id of a whole heap has hundreds of thousands of rows."""

    PAGE = 256
    __slots__ = ("_length", "_fetch", "_pages")

    def __init__(self, length: int, fetch: Callable[[int, int], list[Any]]) -> None:
        self._length = length
        self._fetch = fetch
        # a list, not a dict: printing must not add dicts to the heap it reports
        self._pages: list[list[Any] | None] = [None] * (-(-length // self.PAGE))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        page = self._pages[i // self.PAGE]
        if page is None:
            start = (i // self.PAGE) * self.PAGE
            page = self._fetch(start, min(start + self.PAGE, self._length))
            self._pages[i // self.PAGE] = page
        return page[i % self.PAGE]


def page_end(start: int, step: int, has_row: Callable[[int], bool]) -> int:
    """Where a page that starts at row ``start`` ends (exclusive), as Heapy pages every
    listing (tables, paths, reference patterns): ``step`` rows, and the row after them
    too when it is the last one."""
    stop = start + step
    return stop + 1 if has_row(stop) and not has_row(stop + 1) else stop


@hidden_type
class Table:
    """A label, a header and lazily formatted rows."""

    __slots__ = ("label", "header", "_numrows", "_format_row")

    def __init__(self, label: str, header: str, numrows: int, format_row: Callable[[int], str]) -> None:
        self.label = label
        self.header = header
        self._numrows = numrows
        self._format_row = format_row

    @property
    def numrows(self) -> int:
        return self._numrows

    def lines(self, start: int, stop: int) -> list[str]:
        return [self._format_row(i) for i in range(start, min(stop, self._numrows))]

    def _more_msg(self, shown_to: int) -> list[str]:
        left = self._numrows - shown_to
        return [f"<{left} more rows. Type e.g. '_.more' to view.>"] if left > 0 else []

    def end(self, start: int) -> int:
        """Where the page starting at row ``start`` ends (see :func:`page_end`)."""
        return page_end(start, PAGE_ROWS, lambda i: i < self._numrows)

    def first_page(self) -> str:
        out = [self.label]
        if self.header:
            out.append(self.header)
        stop = self.end(0)
        out += self.lines(0, stop)
        out += self._more_msg(stop)
        return "\n".join(out)

    def page(self, start: int) -> str:
        """Rows from ``start`` with the header; nothing past the last row."""
        if start >= self._numrows:
            return ""
        stop = self.end(start)
        out = [self.header] if self.header else []
        out += self.lines(start, stop)
        out += self._more_msg(stop)
        return "\n".join(out)

    def head(self, rows: int) -> str:
        """The label, the header and the first ``rows`` rows, then how many were left
        out (for output that cannot page: the command line)."""
        out = [self.label]
        if self.header:
            out.append(self.header)
        out += self.lines(0, rows)
        left = self._numrows - min(rows, self._numrows)
        if left > 0:
            out.append(f"<{left} more rows>")
        return "\n".join(out)

    def everything(self) -> str:
        out = [self.label]
        if self.header:
            out.append(self.header)
        out += self.lines(0, self._numrows)
        return "\n".join(out)


def _cumulative(sizes: Sequence[int]) -> list[int]:
    out: list[int] = []
    acc = 0
    for size in sizes:
        acc += size
        out.append(acc)
    return out


def _column_header(columns: str, kind_header: str, nonempty: bool) -> str:
    """The header line (wrapped as Heapy wraps it); empty tables have none."""
    if not nonempty:
        return ""
    return "\n".join(textwrap.wrap(columns + kind_header, width=LINE_LENGTH, subsequent_indent=" " * len(columns)))


def set_table(count: int, size: int, kind_header: str, rows: Sequence[tuple[str, int, int]]) -> Table:
    """Heapy's SetFormat: ``Partition of a set of N objects...`` with Count/Size columns."""
    s = "" if count == 1 else "s"
    label = f"Partition of a set of {count} object{s}. Total size = {size} bytes."
    header = _column_header(SET_HEADER, kind_header, bool(count or size))
    cumul: list[int] = []  # grown as rows are shown: rows may be fetched lazily

    def cumulative(i: int) -> int:
        while len(cumul) <= i:
            cumul.append((cumul[-1] if cumul else 0) + rows[len(cumul)][2])
        return cumul[i]

    def fmt(i: int) -> str:
        name, rcount, rsize = rows[i]
        c = cumulative(i)
        prefix = "%6d %6d %3d %8d %3d %9d %3d " % (
            i, rcount, _pct(rcount, count), rsize, _pct(rsize, size), c, _pct(c, size)
        )
        return _wrap_row(prefix, name)

    return Table(label, header, len(rows), fmt)


def id_table(
    count: int,
    size: int,
    kind_label: str,
    kind_header: str,
    rows: Sequence[tuple[Callable[[], str], int]],
    cumulative: Callable[[int], int] | None = None,
) -> Table:
    """Heapy's IdFormat (byid): ``Set of N <kind> objects...`` with one row per object.
    ``rows`` may fetch rows lazily; ``cumulative(i)`` (the total size of rows ``0..=i``)
    spares a pass over every row."""
    s = "" if count == 1 else "s"
    label = f"Set of {count} {kind_label} object{s}. Total size = {size} bytes."
    header = _column_header(ID_HEADER, kind_header, bool(count or size))
    if cumulative is None:
        cumul = _cumulative([r[1] for r in rows])
        cumulative = cumul.__getitem__

    def fmt(i: int) -> str:
        render, rsize = rows[i]
        c = cumulative(i)
        pct = rsize * 100.0 / size if size else 0.0
        cpct = c * 100.0 / size if size else 0.0
        prefix = "%6d %8d %5.1f %9d %5.1f " % (i, rsize, pct, c, cpct)
        return _wrap_row(prefix, render())

    return Table(label, header, len(rows), fmt)


DIFF_HEADER = " Index  Count     Size  Cumulative  % of B "


def diff_table(
    count: int, size: int, b_count: int, b_size: int, kind_header: str, rows: Sequence[tuple[str, int, int]]
) -> Table:
    """Heapy's DiffFormat: the summary of ``A - B`` and rows of signed differences."""

    def pct_of_b(n: int) -> str:
        return "%9.3g" % (n * 100.0 / b_size) if b_size else "   (n.a.)"

    label = (
        "Summary of difference operation (A-B).\n"
        "        Count     Size\n"
        "  A    %6d %8d\n" % (count + b_count, size + b_size)
        + "  B    %6d %8d\n" % (b_count, b_size)
        + "  A-B  %6d %8d  = %s %% of B\n" % (count, size, pct_of_b(size))
    )
    if count or size:
        label += "\nDifferences by kind, largest absolute size diffs first."
    header = _column_header(DIFF_HEADER, kind_header, bool(count or size))
    cumul = _cumulative([r[2] for r in rows])

    def fmt(i: int) -> str:
        name, rcount, rsize = rows[i]
        return _wrap_row("%6d %6d %8d %9d %s " % (i, rcount, rsize, cumul[i], pct_of_b(cumul[i])), name)

    return Table(label, header, len(rows), fmt)


class Paged:
    """Printing with Heapy's paging for anything that can make its :class:`Table`."""

    __slots__ = ()

    def _get_table(self) -> Table:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self._get_table().first_page()

    def __str__(self) -> str:
        return self.__repr__()

    @property
    def more(self) -> Page:
        """The next page of rows."""
        table = self._get_table()
        return Page(table.page, table.end(0), table.end)

    @property
    def all(self) -> Everything:
        """Every row."""
        return Everything(self._get_table())

    def head(self, rows: int) -> str:
        """The table's first ``rows`` rows and a count of the rest (no paging)."""
        return self._get_table().head(rows)

    def _repr_pretty_(self, p: object, cycle: bool) -> None:
        p.text(repr(self))  # type: ignore[attr-defined]

    def _repr_html_(self) -> str:
        """The first page in a notebook (Jupyter shows this instead of the text)."""
        import html

        return "<pre>" + html.escape(self._get_table().first_page()) + "</pre>"


@hidden_type
class Page:
    """What ``.more`` returns (for tables, paths and reference patterns): prints the page
    that ``render(start)`` renders; its own ``.more`` is the page from ``end(start)`` on."""

    __slots__ = ("_render", "_start", "_end")

    def __init__(self, render: Callable[[int], str], start: int, end: Callable[[int], int]) -> None:
        self._render = render
        self._start = start
        self._end = end

    def __repr__(self) -> str:
        return self._render(self._start)

    __str__ = __repr__

    @property
    def more(self) -> Page:
        return Page(self._render, self._end(self._start), self._end)


@hidden_type
class Everything:
    """What ``.all`` returns: prints the whole table."""

    __slots__ = ("_table",)

    def __init__(self, table: Table) -> None:
        self._table = table

    def __repr__(self) -> str:
        return self._table.everything()

    __str__ = __repr__
