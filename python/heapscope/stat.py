"""Stat: a frozen partition that holds no object references, in Heapy's text format.

A Stat keeps only the numbers and kind names of each row, so reporting objects never
keeps them alive. ``st[i]``/``st[i:j]`` are Stats of those rows; ``a - b`` is Heapy's
difference table (largest absolute size difference first); ``st.dump(file)`` appends a
record that Heapy (guppy3) can load, and :func:`load`/:func:`load_all` read records
written by either. A series of records dumped over time is a memory profile.

A record is a block of lines::

    .loader: _load_stat
    .format: SetFormat            (SetFormat, IdFormat or DiffFormat)
    .timemade: 1700000000.000000
    .count: 4744
    .size: 301862
    .kindname:
    .kindheader: Kind (class / dict of class)
    .numrows: 2
    .r: 1000 88000 dict of __main__.Leaky      (IdFormat rows: ".r: <size> <name>")
    .r: 1000 80000 list
    .end: .loader: _load_stat
"""

from __future__ import annotations

import os
import time
from typing import IO, Iterable, Iterator

from .errors import StatFormatError
from .hidden import hidden_type
from .tables import Paged, Table, diff_table, id_table, set_table

FORMATS = ("SetFormat", "IdFormat", "DiffFormat")
END = ".end: .loader: _load_stat"


@hidden_type
class StatRow:
    """One row as Heapy's ``get_rows()`` yields it: ``index``, ``name``, ``count``,
    ``size`` and ``cumulsize`` (the total size of the rows up to and including it)."""

    __slots__ = ("index", "name", "count", "size", "cumulsize")

    def __init__(self, index: int, name: str, count: int, size: int, cumulsize: int) -> None:
        self.index = index
        self.name = name
        self.count = count
        self.size = size
        self.cumulsize = cumulsize

    def __repr__(self) -> str:
        return f"<row {self.index}: {self.count} {self.name!r}, {self.size} bytes>"


def stat_rows(rows: Iterable[tuple[str, int, int]], start: int = 0) -> Iterator[StatRow]:
    """Rows ``(name, count, size)`` from ``start`` on as :class:`StatRow` (cumulative
    sizes count from the first row)."""
    cumul = 0
    for i, (name, count, size) in enumerate(rows):
        cumul += size
        if i >= start:
            yield StatRow(i, name, count, size, cumul)


@hidden_type
class Stat(Paged):
    """Rows ``(kind name, count, size)`` of a partition, without the objects."""

    __slots__ = ("format", "count", "size", "kindname", "kindheader", "rows", "timemade", "b_count", "b_size", "_table")

    def __init__(
        self,
        count: int,
        size: int,
        kindheader: str,
        rows: list[tuple[str, int, int]],
        *,
        format: str = "SetFormat",  # noqa: A002 - Heapy's field name
        kindname: str = "",
        timemade: float | None = None,
        b_count: int | None = None,
        b_size: int | None = None,
    ) -> None:
        if format not in FORMATS:
            raise StatFormatError(f"unknown stat format {format!r}; expected one of {', '.join(FORMATS)}")
        self.format = format
        self.count = count
        self.size = size
        self.kindname = kindname
        self.kindheader = kindheader
        self.rows = rows
        self.timemade = time.time() if timemade is None else timemade
        self.b_count = b_count
        self.b_size = b_size
        self._table: Table | None = None

    # -- printing --------------------------------------------------------------------
    def _get_table(self) -> Table:
        if self._table is None:
            if self.format == "DiffFormat":
                self._table = diff_table(
                    self.count, self.size, self.b_count or 0, self.b_size or 0, self.kindheader, self.rows
                )
            elif self.format == "IdFormat":
                rows = [((lambda name=name: name), size) for name, _count, size in self.rows]
                self._table = id_table(self.count, self.size, self.kindname, self.kindheader, rows)
            else:
                self._table = set_table(self.count, self.size, self.kindheader, self.rows)
        return self._table

    # -- rows --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.rows)

    def get_rows(self, idx: int = 0) -> Iterator[StatRow]:
        """The rows from ``idx`` on (Heapy's ``get_rows``)."""
        return stat_rows(self.rows, idx)

    def __getitem__(self, index: int | slice) -> Stat:
        n = len(self.rows)
        if isinstance(index, slice):
            rows = [self.rows[i] for i in range(*index.indices(n))]
        elif isinstance(index, int):
            i = index + n if index < 0 else index
            if not 0 <= i < n:
                raise IndexError("Stat index out of range.")
            rows = [self.rows[i]]
        else:
            raise IndexError("Stat indices must be integers or slices.")
        return Stat(
            sum(r[1] for r in rows),
            sum(r[2] for r in rows),
            self.kindheader,
            rows,
            format=self.format,
            kindname=self.kindname,
            timemade=self.timemade,
            b_count=self.b_count,
            b_size=self.b_size,
        )

    def __sub__(self, other: Stat) -> Stat:
        """Heapy's difference table: rows matched by kind name, signed differences,
        largest absolute size difference first."""
        if not isinstance(other, Stat):
            return NotImplemented
        if self.kindheader != other.kindheader:
            raise ValueError(f"Mismatching table kind header, {self.kindheader!r} vs {other.kindheader!r}.")
        theirs: dict[str, list[int]] = {}
        their_order: dict[str, int] = {}
        for i, (name, count, size) in enumerate(other.rows):
            acc = theirs.setdefault(name, [0, 0])
            acc[0] += count
            acc[1] += size
            their_order.setdefault(name, i)
        ours: dict[str, list[int]] = {}
        order: list[str] = []
        for name, count, size in self.rows:
            o = theirs.pop(name, None)
            if o is not None:
                count, size = count - o[0], size - o[1]
            if count == 0 and size == 0:
                continue
            if name in ours:
                ours[name][0] += count
                ours[name][1] += size
            else:
                ours[name] = [count, size]
                order.append(name)
        diff = [(name, ours[name][0], ours[name][1]) for name in order]
        for name in sorted(theirs, key=their_order.__getitem__):
            count, size = theirs[name]
            diff.append((name, -count, -size))
        diff.sort(key=lambda r: abs(r[2]), reverse=True)
        return Stat(
            sum(r[1] for r in diff),
            sum(r[2] for r in diff),
            self.kindheader,
            diff,
            format="DiffFormat",
            kindname=self.kindname,
            b_count=other.count,
            b_size=other.size,
        )

    # -- text records ------------------------------------------------------------------
    def records(self) -> list[str]:
        """The record's lines (without newlines), as ``dump`` writes them."""
        lines = [
            ".loader: _load_stat",
            f".format: {self.format}",
            ".timemade: %f" % self.timemade,
        ]
        if self.b_count is not None:
            lines += [f".b_count: {self.b_count}", f".b_size: {self.b_size}"]
        lines += [
            f".count: {self.count}",
            f".size: {self.size}",
            f".kindname: {self.kindname}",
            f".kindheader: {self.kindheader}",
            f".numrows: {len(self.rows)}",
        ]
        for name, count, size in self.rows:
            lines.append(f".r: {size} {name}" if self.format == "IdFormat" else f".r: {count} {size} {name}")
        lines.append(END)
        return lines

    def dump(self, file: str | os.PathLike[str] | IO[str], mode: str = "a") -> None:
        """Append this Stat's record to a file (a path or an open text file). The record
        is written with one call, so a crash never leaves half a record behind."""
        text = "".join(line + "\n" for line in self.records())
        if hasattr(file, "write"):
            file.write(text)  # type: ignore[union-attr]
            return
        with open(file, mode, encoding="utf-8") as f:  # type: ignore[arg-type]
            f.write(text)


def _parse(lines: Iterator[str], where: str) -> Stat | None:
    """Reads one record from ``lines``; None at the end of the input."""
    fields: dict[str, str] = {}
    rows_text: list[str] = []
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip() and not fields:
            continue
        if line.startswith(".end"):
            break
        if line.startswith(".r: "):
            rows_text.append(line[4:])
            continue
        if not line.startswith(".") or ":" not in line:
            raise StatFormatError(f"{where}: not a Stat record line: {line[:80]!r}")
        name, _, value = line[1:].partition(":")
        fields[name] = value.strip()
    else:
        if not fields:
            return None
        raise StatFormatError(f"{where}: record ends without '{END}' (truncated file?)")
    try:
        fmt = fields["format"]
        idformat = fmt == "IdFormat"
        rows: list[tuple[str, int, int]] = []
        for text in rows_text:
            if idformat:
                size, name = text.split(" ", 1)
                rows.append((name, 1, int(size)))
            else:
                count, size, name = text.split(" ", 2)
                rows.append((name, int(count), int(size)))
        numrows = int(fields.get("numrows", len(rows)))
        if numrows != len(rows):
            raise StatFormatError(f"{where}: .numrows says {numrows} but the record has {len(rows)} rows")
        return Stat(
            int(fields["count"]),
            int(fields["size"]),
            fields.get("kindheader", ""),
            rows,
            format=fmt,
            kindname=fields.get("kindname", ""),
            timemade=float(fields.get("timemade", "0")),
            b_count=int(fields["b_count"]) if "b_count" in fields else None,
            b_size=int(fields["b_size"]) if "b_size" in fields else None,
        )
    except KeyError as e:
        raise StatFormatError(f"{where}: record lacks the .{e.args[0]} field") from None
    except ValueError as e:
        if isinstance(e, StatFormatError):
            raise
        raise StatFormatError(f"{where}: malformed record: {e}") from None


def load_all(source: str | os.PathLike[str] | Iterable[str]) -> Iterator[Stat]:
    """Every Stat record of a file (path) or of an iterable of lines, in order."""
    if isinstance(source, (str, os.PathLike)):
        where = os.fspath(source)
        with open(source, encoding="utf-8") as f:
            yield from _records(iter(f), where)
    else:
        yield from _records(iter(source), "<lines>")


def _records(lines: Iterator[str], where: str) -> Iterator[Stat]:
    while True:
        st = _parse(lines, where)
        if st is None:
            return
        yield st


def load(source: str | os.PathLike[str] | Iterable[str]) -> Stat:
    """The first Stat record of a file (path); from an open file or iterator of lines,
    the next record (Heapy's ``load``)."""
    if isinstance(source, (str, os.PathLike)):
        for st in load_all(source):
            return st
        raise StatFormatError(f"{os.fspath(source)}: no Stat record found")
    st = _parse(iter(source), getattr(source, "name", "<lines>"))
    if st is None:
        raise StatFormatError("no more Stat records")
    return st
