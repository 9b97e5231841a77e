"""Heapy's identity partition (``x.byid``): one row per object, in Heapy's order.

Rows are ordered by size (largest first), then, in a set of several kinds, by kind
name, then within one size and kind by Heapy's sortrender: numbers, strings and bytes
by value, objects rendered by address by address, the rest by their rendering. The
native :class:`IdRows` groups the members into clusters of one size (and kind) in two
linear passes; a cluster is ordered only when one of its rows is needed, so printing
the first page of a whole heap orders the few clusters the page shows, as Heapy does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from . import kind_names
from .hidden import hidden_type
from .tables import PagedRows

if TYPE_CHECKING:
    from ._native import IdRows, NodeSet


@hidden_type
class IdPartition:
    """The rows of ``x.byid``, with the interface of the other partitions (``len``,
    ``rows_set``, ``row_sets``, ``row_kinds``) and Heapy's table layout."""

    __slots__ = ("_rows", "_names", "_styles", "count", "size", "label", "kind_header", "_single")

    def __init__(self, nodes: NodeSet) -> None:
        rows: IdRows = nodes.id_rows()
        self._rows = rows
        self._names = rows.kind_names()
        kinds = rows.kinds()
        # every kind is a type, or a dict classed by owner (rendered as a dict)
        types = [obj if tag == "type" else dict for tag, obj, _n in kinds]
        self._styles = [kind_names.sort_style(t) for t in types]
        self.count = rows.count
        self.size = rows.size
        self._single = len(kinds) == 1
        if not kinds:
            self.label, self.kind_header = "<Nothing>", ""
        elif self._single:
            self.label, self.kind_header = f"<{self._names[0]}>", kind_names.renderer(types[0])[1]
        else:
            self.label, self.kind_header = "<mixed>", "Brief"

    def __len__(self) -> int:
        return self.count

    def _order(self, start: int, stop: int) -> None:
        """Orders every cluster holding one of rows ``start..stop``."""
        rows = self._rows
        if start >= stop:
            return
        c = rows.cluster_at(start)
        clusters = rows.cluster_count()
        while c < clusters:
            _size, kind, first, length, order = rows.cluster(c)
            if first >= stop:
                break
            if order != "final":
                style = self._styles[kind]
                if style == "address":
                    rows.order_by_address(c)
                elif length > 1:
                    objs = rows.cluster_objects(c)
                    keys: list[Any] = objs if style == "value" else [kind_names.render(o) for o in objs]
                    rows.reorder(c, sorted(range(length), key=keys.__getitem__))
            c += 1

    def members(self, start: int, stop: int) -> list[tuple[Any, int, str]]:
        """Rows ``start..stop`` as ``(object, size, kind name)``, in Heapy's order."""
        stop = min(stop, self.count)
        self._order(start, stop)
        return [(obj, size, self._names[k]) for obj, size, k in self._rows.rows_at(start, stop)]

    def rows(self, start: int = 0, stop: int | None = None) -> list[tuple[str, int, int, Any]]:
        """Rows ``start..stop`` as the native partitions give theirs: ``(name, count,
        size, object)``, the name being the row's text."""
        stop = self.count if stop is None else stop
        return [(self.rendering(o, k), 1, size, o) for o, size, k in self.members(start, stop)]

    def rendered(self) -> list[tuple[str, int]]:
        """Every row as ``(text, size)``, in order."""
        return [(self.rendering(o, k), size) for o, size, k in self.members(0, self.count)]

    def rendering(self, obj: Any, kind: str) -> str:
        """A row's text: the object's rendering, after its kind in a mixed set."""
        return kind_names.render(obj) if self._single else f"{kind}: {kind_names.render(obj)}"

    def table_rows(self) -> PagedRows:
        """The rows as a byid table shows them, ``(render, size)``, a page at a time."""

        def fetch(start: int, stop: int) -> list[tuple[Callable[[], str], int]]:
            return [(self._renderer(obj, kind), size) for obj, size, kind in self.members(start, stop)]

        return PagedRows(self.count, fetch)

    def _renderer(self, obj: Any, kind: str) -> Callable[[], str]:
        return lambda: self.rendering(obj, kind)

    def cumulative(self, row: int) -> int:
        return self._rows.cumulative(row)

    def rows_set(self, start: int, stop: int) -> NodeSet:
        self._order(start, min(stop, self.count))
        return self._rows.rows_set(start, stop)

    def row_sets(self, start: int = 0, stop: int | None = None) -> list[NodeSet]:
        stop = self.count if stop is None else min(stop, self.count)
        self._order(start, stop)
        return [self._rows.rows_set(i, i + 1) for i in range(start, stop)]

    def row_kinds(self) -> list[list[tuple[str, Any, None]]]:
        return [[("id", obj, None)] for obj, _size, _kind in self.members(0, self.count)]
