"""One snapshot's answers to the viewer's API: the census, a row's objects, one object,
the dominator tree, leak suspects.

What costs a pass over the heap is made once and kept: ``heap()``, its partitions (and
each one's name -> rows map), the dominator tree, each visited row's summaries, each
visited node's dominator children, the leak suspects. A row's page of objects by retained
size and the tree's top level are paged by the native graph (``largest_retained_in``: one
pass over the row per page; ``root_children``: sorted once). A snapshot's
native graph is shared by every request, so one lock per snapshot serializes them (two
browsers asking at once wait for each other rather than race on the caches).

A row's summary (its referrer kinds, Via labels and shortest paths) is its own request:
for a row of millions of objects it takes a second or more, and the row's objects are
shown meanwhile. It is made under a lock of its own, so clicks on objects are not queued
behind it. :meth:`SnapshotView.warm_up_steps` makes, ahead of the first clicks, what the
first clicks would otherwise wait for (the viewer's server runs it on a thread while it
serves: :mod:`.warm_up`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Generic, Iterator, NamedTuple, TypeVar

from ..identity_set import IdentitySet
from ..paths import Path
from ..snapshot import Snapshot
from .request_error import RequestError

#: ``by=`` values and the native classifiers they name.
PARTITIONS = {"clodo": "Clodo", "type": "Type", "module": "Module", "size": "Size"}
SORT_KEYS = ("size", "count", "name")
ORDERS = ("desc", "asc")
ROOT_NODE = "root"

ROW_SUMMARY_ROWS = 20  # referrer kinds and via labels of a row
ROW_PATHS = 10
OBJECT_NEIGHBOURS = 100  # referrers and referents of an object
OBJECT_PATHS = 5
RETAINED_KINDS = 10
#: Dominator-tree children are counted exactly up to this many; beyond it the count is
#: this cap and ``children_count_exact`` is false (counting costs a sort of them all).
CHILDREN_COUNT_CAP = 1000
CACHED_ROWS = 16  # visited rows whose summaries are kept
CACHED_NODES = 256  # visited dominator-tree nodes whose children are kept
WARMED_ROWS = 3  # the largest census rows whose summaries are made ahead of a click

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A small least-recently-used cache (callers hold the lock that guards it)."""

    def __init__(self, capacity: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._capacity = capacity

    def get(self, key: K, make: Callable[[], V]) -> V:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = make()
        self._items[key] = value
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return value


class RowSummary(NamedTuple):
    """What a row's page shows besides its members' page, made on its first visit."""

    referrer_kinds: list[dict[str, Any]]
    via: list[dict[str, Any]]
    paths: list[str]
    numpaths: int
    no_path_reason: str | None


def parse_address(text: str) -> int:
    """An address as printed (``0x7f...``) or in decimal."""
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise RequestError(f"not an address: {text!r} (decimal or 0x-hex)") from None
    if value < 0:
        raise RequestError(f"not an address: {text!r}")
    return value


class SnapshotView:
    """The API's answers over one loaded snapshot (see the module doc)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.lock = threading.RLock()
        self._graph = snap._source_graph()
        self._heap: IdentitySet | None = None
        self._partitions: dict[str, Any] = {}
        self._row_indices: dict[str, dict[str, list[int]]] = {}
        self._rows_seen: Lru[tuple[str, tuple[int, ...]], RowSummary] = Lru(CACHED_ROWS)
        self._children: Lru[int, list[tuple[Any, int]]] = Lru(CACHED_NODES)
        self._children_counts: dict[int, int] = {}
        self._kinds: dict[int, str] = {}
        self._tree: Any = None
        self._suspects: dict[str, Any] | None = None  # the answer, made once
        self._summary_lock = threading.Lock()  # one row summary at a time, apart from `lock`

    # -- cached analyses --------------------------------------------------------------
    def heap(self) -> IdentitySet:
        if self._heap is None:
            self._heap = self.snap.heap()
        return self._heap

    def partition(self, by: str) -> Any:
        if by not in PARTITIONS:
            raise RequestError(f"unknown partition by={by!r}: use one of {', '.join(PARTITIONS)}")
        if by not in self._partitions:
            part = self.heap()._nodes.partition(PARTITIONS[by])
            self._partitions[by] = part
            indices: dict[str, list[int]] = {}
            for i, (name, _count, _size, _key) in enumerate(part.rows()):
                indices.setdefault(name, []).append(i)
            self._row_indices[by] = indices
        return self._partitions[by]

    def tree(self) -> Any:
        if self._tree is None:
            self._tree = self.snap.dominator_tree()
        return self._tree

    def reachable_size(self) -> int:
        return int(self.tree().total_size)

    # -- /api/files ---------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        return dict(self.snap.info)

    # -- census -------------------------------------------------------------------------
    def census(self, by: str, start: int, count: int, sort: str, order: str, text: str) -> dict[str, Any]:
        if sort not in SORT_KEYS:
            raise RequestError(f"unknown sort={sort!r}: use one of {', '.join(SORT_KEYS)}")
        if order not in ORDERS:
            raise RequestError(f"unknown order={order!r}: use asc or desc")
        part = self.partition(by)
        rows = [(i, name, n, size) for i, (name, n, size, _key) in enumerate(part.rows())]
        if text:
            needle = text.lower()
            rows = [r for r in rows if needle in r[1].lower()]
        column = {"name": 1, "count": 2, "size": 3}[sort]
        # ties keep the partition's own order (size descending, then name)
        rows.sort(key=lambda r: r[column], reverse=order == "desc")
        x = self.heap()
        return {
            "by": by,
            "total_count": x.count,
            "total_size": x.size,
            "total_rows": len(part),
            "matching_rows": len(rows),
            "rows": [
                {"index": i, "kind": name, "count": n, "size": size}
                for i, name, n, size in rows[start : start + count]
            ],
        }

    # -- one row of a partition ---------------------------------------------------------
    def _row_set(self, by: str, kind: str, index: int | None) -> tuple[tuple[int, ...], IdentitySet]:
        part = self.partition(by)
        indices = self._row_indices[by].get(kind)
        if not indices:
            raise RequestError(f"no row {kind!r} in the census by {by}", 404)
        if index is not None:
            if index not in indices:
                raise RequestError(f"row {index} of the census by {by} is not {kind!r}", 404)
            indices = [index]
        nodes = part.rows_set(indices[0], indices[0] + 1)
        for i in indices[1:]:  # rows of one name (two classes both named pkg.C): together
            nodes = nodes.union(part.rows_set(i, i + 1))
        return tuple(indices), IdentitySet(nodes, self.snap)

    def row(self, by: str, kind: str, index: int | None, start: int, count: int) -> dict[str, Any]:
        """A page of a row's objects, largest retained first (its summary: :meth:`row_summary`)."""
        _indices, x = self._row_set(by, kind, index)
        self.tree()
        # largest retained first, ties by node id; only reachable members have a
        # retained size (a snapshot's census is of the reachable objects: all of them)
        page, _reachable = self._graph.largest_retained_in(x._nodes, start, count)
        return {
            "by": by,
            "kind": kind,
            "count": x.count,
            "size": x.size,
            "objects": [self._object_row(o, r) for o, r in page],
        }

    def row_summary(self, by: str, kind: str, index: int | None) -> dict[str, Any]:
        """A row's referrer kinds (Rcs), Via labels and shortest paths from the roots.

        Called without ``lock`` held: the row is found under it, the summary is made
        under ``_summary_lock`` (the native graph is only read; the GIL orders the calls).
        """
        with self.lock:
            indices, x = self._row_set(by, kind, index)
        with self._summary_lock:
            summary = self._rows_seen.get((by, indices), lambda: _summarize(x))
        return {"by": by, "kind": kind, "count": x.count, "size": x.size, **summary._asdict()}

    # -- ahead of the first clicks ------------------------------------------------------
    def warm_up_steps(self) -> Iterator[str]:
        """Makes what the first clicks need, one step per item (its name): the census
        rows' members, the dominator tree, the leak suspects, the other partitions of
        the census, the largest rows' summaries.
        The caller may stop between steps. Each step takes the locks a request would."""
        with self.lock:
            part = self.partition("clodo")
            largest = [name for name, _n, _size, _key in part.rows(0, WARMED_ROWS)]
        if len(part):
            # files every member under its row, once (native, thread-safe, without the
            # GIL): outside the lock, so that census requests are answered meanwhile
            part.rows_set(0, 1)
        yield "census rows"
        self._graph.compute_dominators()  # without the GIL and without the lock
        with self.lock:
            self.tree()
        yield "dominator tree"
        with self.lock:
            self.suspects()
        yield "leak suspects"
        for by in PARTITIONS:
            with self.lock:
                self.partition(by)
        yield "census partitions"
        for name in largest:
            self.row_summary("clodo", name, None)
            yield f"summary of {name}"

    @staticmethod
    def _object_row(o: Any, retained: int) -> dict[str, Any]:
        return {"address": o.address, "type": o.type_name, "size": o.size, "retained": retained, "text": o.text}

    # -- one object -----------------------------------------------------------------------
    def _one(self, address: int) -> tuple[Any, IdentitySet]:
        one = self.snap.at(address)
        if one.count == 0:
            raise RequestError(f"no object at {address:#x} in {self.snap.path}", 404)
        return one.theone, one

    def kind_of(self, o: Any) -> str:
        """The object's Clodo kind (the census row it is counted in)."""
        address = int(o.address)
        if address not in self._kinds:
            rows = IdentitySet(o.as_set(), self.snap).byclodo.rows
            self._kinds[address] = rows[0].name if rows else ""
        return self._kinds[address]

    def object(self, address: int) -> dict[str, Any]:
        o, one = self._one(address)
        self.tree()
        graph = self._graph
        state, dominator = graph.immediate_dominator(o)
        reachable = state != "unreachable"
        referrers, referrers_more = self._referrers(o, one)
        referents, referents_more = self._referents(o, one)
        paths = one.sp
        retained_kinds = (
            _rows(self.tree().dominated(o).byclodo.rows[:RETAINED_KINDS]) if reachable else []
        )
        return {
            "address": o.address,
            "type": o.type_name,
            "kind": self.kind_of(o),
            "size": o.size,
            "retained": graph.retained_size(o),
            "text": o.text,
            "reachable": reachable,
            "referrers": referrers,
            "referrers_more": referrers_more,
            "referents": referents,
            "referents_more": referents_more,
            "more": {"referrers": referrers_more, "referents": referents_more},
            "paths": [p.brief for p in paths.iter(0, OBJECT_PATHS)],
            "numpaths": paths.numpaths,
            "no_path_reason": paths.reason,
            "retained_kinds": retained_kinds,
            "dominator": dominator.address if dominator is not None else None,
        }

    def _referents(self, o: Any, one: IdentitySet) -> tuple[list[dict[str, Any]], int]:
        """What ``o`` refers to, in Heapy's edge order, with each reference's label
        (a shortest path of one step from ``o``); how many more objects are not listed."""
        targets = one.referents - one  # a reference to itself is a path of no steps
        if targets.count == 0:
            return [], 0
        paths = targets.get_shpaths(one)
        out = []
        seen: set[int] = set()
        for i in range(min(paths.numpaths, OBJECT_NEIGHBOURS)):
            step = Path(paths, i, "%s")
            target = step.objects[-1]
            seen.add(target.address)
            out.append(_neighbour(target, _label(step.full)))
        return out, targets.count - len(seen)

    def _referrers(self, o: Any, one: IdentitySet) -> tuple[list[dict[str, Any]], int]:
        """Who refers to ``o`` (the first by address), each with the label of its
        reference; how many more objects are not listed."""
        holders = one.referrers - one
        if holders.count == 0:
            return [], 0
        addresses = holders._nodes.addresses()[:OBJECT_NEIGHBOURS]
        sources = self.snap.at(*addresses)
        paths = one.get_shpaths(sources)
        out = []
        seen: set[int] = set()
        for i in range(min(paths.numpaths, OBJECT_NEIGHBOURS)):
            step = Path(paths, i, "%s")
            source = paths._handle.source(i)
            if source is None:
                continue
            holder = source.objects()[0]
            seen.add(holder.address)
            out.append(_neighbour(holder, _label(step.full)))
        return out, holders.count - len(seen)

    # -- the dominator tree ----------------------------------------------------------------
    def _node_children(self, o: Any) -> list[tuple[Any, int]]:
        return self._children.get(int(o.address), lambda: list(self._graph.dominator_children(o, 1 << 62)))

    def _children_count(self, o: Any) -> int:
        address = int(o.address)
        if address not in self._children_counts:
            self._children_counts[address] = len(self._graph.dominator_children(o, CHILDREN_COUNT_CAP + 1))
        return self._children_counts[address]

    def domtree(self, node: str, start: int, count: int) -> dict[str, Any]:
        tree = self.tree()
        total = tree.total_size or 1
        if node == ROOT_NODE:
            # the top level (objects no single object dominates), paged natively
            page, total_children = self._graph.root_children(start, count)
            shown_node: Any = ROOT_NODE
        else:
            o, _one = self._one(parse_address(node))
            if self._graph.immediate_dominator(o)[0] == "unreachable":
                raise RequestError(f"{o.address:#x} is not reachable from the roots: it is in no dominator tree")
            children = self._node_children(o)
            page, total_children = children[start : start + count], len(children)
            shown_node = o.address
        rows = []
        for child, retained in page:
            n = self._children_count(child)
            rows.append(
                {
                    "address": child.address,
                    "kind": self.kind_of(child),
                    "type": child.type_name,
                    "text": child.text,
                    "size": child.size,
                    "retained": retained,
                    "share": retained / total,
                    "children_count": min(n, CHILDREN_COUNT_CAP),
                    "children_count_exact": n <= CHILDREN_COUNT_CAP,
                }
            )
        return {
            "node": shown_node,
            "children": rows,
            "total_children": total_children,
            "total_children_exact": True,
            "reachable_size": tree.total_size,
        }

    # -- leak suspects ------------------------------------------------------------------------
    def suspects(self) -> dict[str, Any]:
        if self._suspects is None:
            self.tree()
            found = self.snap.leak_suspects()
            self._suspects = {
                "min_share": found.min_share,
                "total_count": found.total_count,
                "total_size": found.total_size,
                "suspects": [
                    {
                        "address": s.object.address,
                        "name": s.name,
                        "retained": s.retained,
                        "share": s.share,
                        "objects": s.dominated.count,
                        "path": s.path,
                        "retained_kinds": _rows(s.dominated.byclodo.rows[:RETAINED_KINDS]),
                    }
                    for s in found.suspects
                ],
            }
        return self._suspects


def _summarize(x: IdentitySet) -> RowSummary:
    paths = x.sp
    return RowSummary(
        _top_rows(x.byrcs, "kind"),
        _top_rows(x.byvia, "label"),
        [p.brief for p in paths.iter(0, ROW_PATHS)],
        paths.numpaths,
        paths.reason,
    )


def _rows(rows: list[Any]) -> list[dict[str, Any]]:
    return [{"kind": r.name, "count": r.count, "size": r.size} for r in rows]


def _top_rows(x: IdentitySet, name: str) -> list[dict[str, Any]]:
    """The first rows of a partition, without making the rest (by referrers and by
    labels, a row of 300,000 objects held by one list each has a row per index)."""
    rows = x._partition().rows(0, ROW_SUMMARY_ROWS)
    return [{name: kind, "count": count, "size": size} for kind, count, size, _key in rows]


def _label(path_text: str) -> str:
    """A one-step path printed from ``%s`` (``%s.name``, ``%s['k']``) as its label."""
    return path_text[2:] if path_text.startswith("%s") else path_text


def _neighbour(o: Any, label: str) -> dict[str, Any]:
    return {"address": o.address, "type": o.type_name, "size": o.size, "label": label, "text": o.text}
