"""Where a session's graphs come from: the running interpreter, or a snapshot file.

A :class:`~heapscope.session.Session` asks its source for node sets and never captures
anything itself:

* :class:`LiveSource` captures the calling process. Each ``heap()`` is a census
  without references; queries that need references (referrers, paths, dominators) take
  a capture with edges, shared while the results that describe one moment are held
  (see :meth:`LiveSource.in_edge_graph`).
* :class:`SnapshotSource` holds one graph read from a ``.hsnap`` file: every query is
  answered from it, nothing is captured, and no live object is ever touched (sets hold
  node proxies instead of objects).
"""

from __future__ import annotations

import contextlib
import gc
import weakref
from typing import Any, Callable, Iterator

from . import _native, kind_names
from .errors import DifferentHeapsError, NoSuchTypeError, SnapshotError
from .hidden import hidden_type
from .root import PACKAGE_DIR


@hidden_type
class GraphRef(weakref.ref):  # type: ignore[type-arg]
    """A source's weak reference to a capture or to a dominator tree (its own type, so
    it is hidden)."""

    __slots__ = ()


@hidden_type
class LiveSource:
    """Captures of the calling process, and the policy of sharing them."""

    __slots__ = (
        "_hidden_types", "_graphs", "_edges", "_edge_depth", "_pinned", "_census", "_tree", "captures",
        "__weakref__",
    )

    def __init__(self, hidden_types: Callable[[], list[type]]) -> None:
        self._hidden_types = hidden_types
        self._graphs: weakref.WeakSet[_native.LiveGraph] = weakref.WeakSet()
        self._edges: _native.LiveGraph | None = None  # the current scope's capture
        self._edge_depth = 0
        # The capture shared by queries after the last heap(), kept while that heap()'s
        # census lives (a weak reference to it drops the capture when it dies).
        self._pinned: _native.LiveGraph | None = None
        self._census: GraphRef | None = None
        # The last dominator tree made since the last heap(): its capture is shared
        # while the tree is held (a weak reference to the tree).
        self._tree: GraphRef | None = None
        self.captures = 0  # captures taken so far (tests count them)

    def capture(
        self,
        *,
        from_roots: bool,
        seeds: list[Any],
        closure: bool = True,
        edges: bool = False,
        owner_candidates: list[Any] | None = None,
        seed_sets: list[_native.NodeSet] | None = None,
    ) -> _native.LiveGraph:
        graph = _native.capture_graph(
            from_roots=from_roots,
            seeds=seeds,
            hidden_types=self._hidden_types(),
            hidden_objects=[],
            skip_prefix=PACKAGE_DIR,
            namer=kind_names.type_name,
            closure=closure,
            edges=edges,
            owner_candidates=owner_candidates or [],
            seed_sets=seed_sets or [],
        )
        self._graphs.add(graph)
        self.captures += 1
        return graph

    def census(self) -> _native.NodeSet:
        """Every object reachable from the roots, now (queries from now on describe the
        heap as of now)."""
        self._pinned = None
        self._tree = None
        graph = self.capture(from_roots=True, seeds=[])
        self._census = GraphRef(graph, self._census_freed)
        return graph.full()

    def everything(self) -> _native.LiveGraph:
        """One capture with edges of everything alive: what the roots reach and what only
        the cycle collector knows of (without running a collection)."""
        return self.capture(from_roots=True, seeds=gc.get_objects(), edges=True)

    def unreachable(self) -> _native.NodeSet:
        """Objects alive but unreachable from the roots (after a collection, as heapu()),
        less those other live captures hold."""
        gc.collect()
        graph = self.everything()
        # what the walk reached only from the collector's objects (tests check it equals
        # the closure computed by graph.unreachable)
        nodes = graph.seeded_only()
        for other in list(self._graphs):
            if other is not graph:
                nodes = nodes.without_addresses(other.full().addresses())
        return nodes

    def in_edge_graph(self, nodes: _native.NodeSet, *also: _native.NodeSet) -> _native.NodeSet:
        """``nodes`` re-expressed in a capture with edges (from the roots). A capture is
        reused while it holds every member of ``nodes`` and of the ``also`` sets: inside
        an :meth:`edge_scope` (one operation: a pattern, a leak report) the scope's;
        while the result of the last ``heap()`` is held, the first one taken after it;
        while a dominator tree made since the last ``heap()`` is held, the tree's
        (analyses of that snapshot; ``heap()`` again refreshes). Otherwise each query
        captures afresh, and no capture outlives the results that use it."""
        graph = self._reusable_edges()
        if graph is not None:
            found, count = graph.translate(nodes)
            if count == nodes.count and all(graph.translate(s)[1] == s.count for s in also):
                return found
        graph = self.capture_edges(nodes, *also)
        if self._edge_depth:
            self._edges = graph
        self._share(graph)
        return graph.translate(nodes)[0]

    def capture_edges(self, *sets: _native.NodeSet) -> _native.LiveGraph:
        """A new capture with edges from the roots, holding the members of ``sets`` (they
        seed the walk by address, in Rust: no list of a heap's objects)."""
        return self.capture(from_roots=True, seeds=[], edges=True, seed_sets=list(sets))

    def _reusable_edges(self) -> _native.LiveGraph | None:
        """The capture a query may reuse: the current scope's, else the snapshot's (the
        last heap()'s, or a held dominator tree's)."""
        if self._edge_depth and self._edges is not None:
            return self._edges
        if self._pinned is not None:
            return self._pinned
        tree = self._tree() if self._tree is not None else None
        return tree._graph if tree is not None else None

    def tree_graph(self) -> _native.LiveGraph:
        """The capture a whole-heap dominator tree is computed on: the shared one, else
        one taken now (and shared)."""
        graph = self._reusable_edges()
        if graph is None:
            graph = self.capture(from_roots=True, seeds=[], edges=True)
            self._share(graph)
        return graph

    def tree_made(self, tree: Any) -> None:
        """Queries share the tree's capture while it is held."""
        self._tree = GraphRef(tree)

    def _share(self, graph: _native.LiveGraph) -> None:
        """Shares a new capture with later queries while the last heap()'s result is held:
        analyses of one snapshot."""
        if self._census is not None and self._census() is not None:
            self._pinned = graph

    def _census_freed(self, ref: GraphRef) -> None:
        if ref is self._census:
            self._pinned = None

    @contextlib.contextmanager
    def edge_scope(self, graph: _native.LiveGraph | None = None) -> Iterator[None]:
        """One operation's queries share one capture with edges (``graph``, or the first
        one taken inside); it is dropped when the outermost scope ends."""
        saved = self._edges
        self._edge_depth += 1
        if graph is not None:
            self._edges = graph
        try:
            yield
        finally:
            self._edge_depth -= 1
            self._edges = saved if self._edge_depth else None

    def set_of(self, objects: list[Any]) -> _native.NodeSet:
        """The set of exactly these objects (by identity)."""
        # A dict's owner does not depend on the set: look for owners among all GC objects
        # when the set has dicts (one pass; nothing is materialised).
        candidates = gc.get_objects() if any(type(o) is dict for o in objects) else None
        graph = self.capture(from_roots=False, seeds=objects, closure=False, owner_candidates=candidates)
        del candidates
        return graph.full()

    def common_heap(self, a: _native.NodeSet, b: _native.NodeSet) -> tuple[_native.NodeSet, _native.NodeSet]:
        """Re-express two sets from different captures over one graph of their union."""
        objs_a = a.objects()
        objs_b = b.objects()
        both = objs_a + objs_b
        candidates = gc.get_objects() if any(type(o) is dict for o in both) else None
        graph = self.capture(from_roots=False, seeds=both, closure=False, owner_candidates=candidates)
        return graph.set_of(objs_a), graph.set_of(objs_b)

    def thread_names(self) -> dict[int, str] | None:
        """None: paths name threads from the running interpreter's registry."""
        return None

    def resolve_type(self, t: Any) -> Any:
        """A kind's type: the type object itself."""
        return t


@hidden_type
class SnapshotSource:
    """One graph read from a snapshot file; every query is answered from it."""

    __slots__ = ("graph", "path", "captures", "__weakref__")

    def __init__(self, graph: _native.LiveGraph, path: str) -> None:
        self.graph = graph
        self.path = path
        self.captures = 0  # never captures

    def census(self) -> _native.NodeSet:
        """What ``heap()`` saw when the snapshot was taken."""
        return self.graph.full().difference(self.graph.flagged_unreachable())

    def unreachable(self) -> _native.NodeSet:
        """What ``heapu()`` would have reported: the part marked unreachable."""
        return self.graph.flagged_unreachable()

    def in_edge_graph(self, nodes: _native.NodeSet, *also: _native.NodeSet) -> _native.NodeSet:
        for s in (nodes, *also):
            if not s.same_heap(self.graph.full()):
                raise DifferentHeapsError(
                    "a set of another heap was given to a query of this snapshot; compare "
                    "snapshots with heapscope.diff(a, b)"
                )
        return nodes

    def capture_edges(self, *sets: _native.NodeSet) -> _native.LiveGraph:
        return self.graph

    def tree_graph(self) -> _native.LiveGraph:
        return self.graph

    def tree_made(self, tree: Any) -> None:
        pass

    @contextlib.contextmanager
    def edge_scope(self, graph: _native.LiveGraph | None = None) -> Iterator[None]:
        yield

    def set_of(self, objects: list[Any]) -> _native.NodeSet:
        """The set of these node proxies (objects of a snapshot are node proxies)."""
        addresses = []
        for o in objects:
            if type(o) is not _native.NodeProxy or not o.graph_is(self.graph):
                raise SnapshotError(
                    f"a snapshot's sets hold its own objects (node proxies), not {type(o).__name__}"
                )
            addresses.append(o.address)
        return self.graph.set_of_addresses(addresses)

    def common_heap(self, a: _native.NodeSet, b: _native.NodeSet) -> tuple[_native.NodeSet, _native.NodeSet]:
        raise DifferentHeapsError(
            "these sets belong to different heaps (snapshots); compare snapshots with heapscope.diff(a, b)"
        )

    def thread_names(self) -> dict[int, str] | None:
        """The threads that were running, as the snapshot recorded them."""
        return dict(self.graph.threads())

    def resolve_type(self, t: Any) -> Any:
        """A kind's type as this snapshot's type: by Heapy's kind name or
        ``module.qualname`` (``'pkg.mod.Class'``), a snapshot type, or a live type by its
        name; nothing is imported."""
        if type(t) is _native.TypeRef:
            return t
        if isinstance(t, type):
            # a type the snapshot has no record of has no objects in it: the type itself
            # then selects nothing (its address is no type's of the snapshot)
            return self.graph.type_named(kind_names.type_name(t)) or t
        if not isinstance(t, str):
            raise TypeError(f"a snapshot's kinds take a type name (str) or a type, not {type(t).__name__}")
        found = self.graph.type_named(t)
        if found is None:
            raise NoSuchTypeError(f"no type named {t!r} in the snapshot {self.path}")
        return found
