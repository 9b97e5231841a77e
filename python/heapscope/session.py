"""The ``hpy()`` session: heap(), heapu(), reference points, iso/idset, Root.

All analysis state (the reference point, the graphs it made) belongs to the session.
The session's own objects are hidden from ``heap()``: instances of heapscope's classes
(registered in :mod:`heapscope.hidden`) are never reported nor walked through, and
heapscope's own frames are skipped.

Reference points (``setref``/``setrelheap``) cost memory:

* ``setref()`` (default, exact, Heapy's behaviour) keeps a strong reference to every
  object of the heap at that moment, so later ``heap()`` calls can leave them out by
  identity. Objects that would have been freed stay alive while the reference exists.
* ``setref(light=True)`` keeps only ``(address, type)`` pairs: 16 bytes per object and
  nothing kept alive. An object freed after the reference point whose address is reused
  by a new object of the same type is then wrongly left out.
"""

from __future__ import annotations

import contextlib
import sys
from array import array
from typing import Any, Iterable, Iterator

from . import _native
from . import snapshot_writer
from . import stat as stat_records
from .hidden import hidden_type, hidden_types
from .identity_set import IdentitySet
from .kinds import AnythingKind, EquivalenceRelation, NothingKind, Relation, UniSet
from .paths import ShortestPaths
from .reference_pattern import ReferencePattern
from .relations import Findex, Idset, OwnedDictKind, OwnedDictRelation, Prod, ProductRelation, Referrers, SetOfKinds, Via
from .retention import DominatorTree, LeakSuspects, RetainersTable, leak_suspects
from .root import RootState
from .sources import LiveSource, SnapshotSource
from .stat import Stat
from .unreached import UnreachedReport


@hidden_type
class _Reference:
    """A reference point: either the set itself (exact) or address/type pairs (light)."""

    __slots__ = ("nodes", "addresses", "types")

    def __init__(self, nodes: _native.NodeSet, light: bool) -> None:
        if light:
            addrs, types = nodes.address_type_pairs()
            self.nodes = None
            self.addresses = array("Q", addrs)
            self.types = array("Q", types)
        else:
            self.nodes = nodes
            self.addresses = None
            self.types = None

    def subtract_from(self, nodes: _native.NodeSet) -> _native.NodeSet:
        if self.nodes is not None:
            return nodes.without_addresses(self.nodes.addresses())
        assert self.addresses is not None and self.types is not None
        return nodes.without_pairs(list(self.addresses), list(self.types))


@hidden_type
class Session:
    """A heapscope session, as returned by :func:`hpy` (the live process) or by
    :func:`heapscope.load` (a snapshot file): the analyses are the same, the graphs
    come from the session's source (:mod:`heapscope.sources`)."""

    __slots__ = ("_relheap", "_relheapu", "_source", "Root", "_reprefix", "default_reprefix", "__weakref__")

    def __init__(self, source: LiveSource | SnapshotSource | None = None) -> None:
        self._relheap: _Reference | None = None
        self._relheapu: _Reference | None = None
        self._source: LiveSource | SnapshotSource = source if source is not None else LiveSource(hidden_types)
        self.Root = RootState()
        self._reprefix: str | None = None
        #: The prefix of reprs when none is set and the session has no name in __main__.
        self.default_reprefix = "hpy()."

    @property
    def reprefix(self) -> str:
        """The prefix of every kind's, relation's and path's repr, so that reprs evaluate
        back: what was set (``h.reprefix = 'hp.'``), else ``name.`` for the name the
        session has in ``__main__``, else ``default_reprefix`` (``hpy().``)."""
        if self._reprefix is not None:
            return self._reprefix
        main = sys.modules.get("__main__")
        for name, value in list(getattr(main, "__dict__", {}).items()):
            if value is self and not name.startswith("_"):
                return f"{name}."
        return self.default_reprefix

    @reprefix.setter
    def reprefix(self, prefix: str) -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"reprefix is a str such as 'hp.', not {type(prefix).__name__}")
        self._reprefix = prefix

    @reprefix.deleter
    def reprefix(self) -> None:
        self._reprefix = None

    # -- graphs, from the source -------------------------------------------------------
    @property
    def _captures(self) -> int:
        """Captures taken so far (tests count them)."""
        return self._source.captures

    def heap(self) -> IdentitySet:
        """Every object reachable from the roots, less the session's own and the reference
        point's. Unlike guppy3 it does not run ``gc.collect()`` first: garbage cycles are
        not reachable from the roots, so the census is the same, and collecting would run
        finalizers and weakref callbacks in the process being looked at."""
        nodes = self._source.census()
        if self._relheap is not None:
            nodes = self._relheap.subtract_from(nodes)
        return IdentitySet(nodes, self)

    def _unreachable(self) -> _native.NodeSet:
        return self._source.unreachable()

    def heapu(self) -> Stat:
        """Objects alive but unreachable from the roots (held only from C, leaked
        references), with what they reference; a Stat, so nothing is kept alive."""
        nodes = self._unreachable()
        if self._relheapu is not None:
            nodes = self._relheapu.subtract_from(nodes)
        return _stat_of(nodes)

    def unreached(self) -> UnreachedReport:
        """``heapu()`` explained: how many of the unreachable objects nothing visible
        refers to (held by C code or by containers CPython cannot traverse), by kind."""
        nodes = self._unreachable()
        if self._relheapu is not None:
            nodes = self._relheapu.subtract_from(nodes)
        untraced = nodes.difference(nodes.referents())
        return UnreachedReport(_stat_of(nodes), _stat_of(untraced))

    def _in_edge_graph(self, nodes: _native.NodeSet, *also: _native.NodeSet) -> _native.NodeSet:
        """``nodes`` in a graph with edges (see :meth:`LiveSource.in_edge_graph`)."""
        return self._source.in_edge_graph(nodes, *also)

    def _capture_edges(self, *sets: _native.NodeSet) -> _native.LiveGraph:
        return self._source.capture_edges(*sets)

    def _edge_scope(self, graph: _native.LiveGraph | None = None) -> contextlib.AbstractContextManager[None]:
        """One operation's queries share one graph with edges."""
        return self._source.edge_scope(graph)

    # -- reference points ------------------------------------------------------------------
    def setrelheap(self, reference: IdentitySet | None = None, *, light: bool = False) -> None:
        """Make ``heap()`` leave out ``reference`` (default: the current heap)."""
        self._relheap = None
        ref = reference if reference is not None else self.heap()
        self._relheap = _Reference(ref._nodes, light)

    def setrelheapu(self, reference: IdentitySet | None = None, *, light: bool = True) -> None:
        """Make ``heapu()`` leave out the objects unreachable now (or ``reference``)."""
        self._relheapu = None
        nodes = reference._nodes if reference is not None else self._unreachable()
        self._relheapu = _Reference(nodes, light)

    def setref(self, *, light: bool = False) -> None:
        """Set the reference point of both ``heap()`` and ``heapu()`` to now.

        ``light=False`` keeps the current heap alive (exact); ``light=True`` keeps only
        address/type pairs (see the module doc for the trade-off)."""
        self.setrelheap(light=light)
        self.setrelheapu()

    def clearref(self) -> None:
        """Drop the reference points (and whatever they kept alive)."""
        self._relheap = None
        self._relheapu = None

    # -- sets from objects -----------------------------------------------------------------
    def iso(self, *objects: Any) -> IdentitySet:
        """The set of exactly these objects (by identity)."""
        return self.idset(objects)

    def idset(self, iterable: Iterable[Any]) -> IdentitySet:
        """The set of the objects of an iterable (by identity)."""
        return IdentitySet(self._source.set_of(list(iterable)), self)

    # -- equivalence relations and kinds -----------------------------------------------------
    @property
    def Clodo(self) -> EquivalenceRelation:  # noqa: N802 - Heapy's names
        """Class, with dicts classed by their owner: ``Clodo(C)``, ``Clodo(dictof=C)``."""
        return EquivalenceRelation(self, "Clodo")

    @property
    def Type(self) -> EquivalenceRelation:  # noqa: N802
        """Exact type: ``Type(dict)``."""
        return EquivalenceRelation(self, "Type")

    @property
    def Size(self) -> EquivalenceRelation:  # noqa: N802
        """Individual size: ``Size(56)``."""
        return EquivalenceRelation(self, "Size")

    @property
    def Id(self) -> EquivalenceRelation:  # noqa: N802
        """Identity: ``Id(obj)`` is the set of just obj."""
        return EquivalenceRelation(self, "Id")

    @property
    def Module(self) -> EquivalenceRelation:  # noqa: N802
        """Modules by name: ``Module('sys')``."""
        return EquivalenceRelation(self, "Module")

    @property
    def Unity(self) -> EquivalenceRelation:  # noqa: N802
        """One class for everything."""
        return EquivalenceRelation(self, "Unity")

    @property
    def Idset(self) -> Idset:  # noqa: N802
        """Each object its own class (rows are singleton sets)."""
        return Idset(self)

    @property
    def Prod(self) -> Prod:  # noqa: N802
        """Allocation site from tracemalloc: ``x.by(h.Prod)``, ``h.Prod(file, line)``."""
        return Prod(self)

    @property
    def Rcs(self) -> Referrers:  # noqa: N802
        """Referrer classes (Clodo): ``x.byrcs``, ``h.Rcs(h.Clodo(list))``."""
        return Referrers(self, self.Clodo)

    @property
    def Via(self) -> Via:  # noqa: N802
        """Reference labels: ``x.byvia``, ``h.Via('.x', "['key']")``."""
        return Via(self)

    # -- retained sizes (beyond Heapy) --------------------------------------------------
    def dominator_tree(self) -> DominatorTree:
        """The whole-heap dominator tree (retained sizes, immediate dominators) of the
        capture shared since the last ``heap()`` while its result is held, else of one
        taken now; the tree keeps that capture's objects alive while held, and queries
        (``h.iso(obj).sp``, referrers, ...) use that capture meanwhile, until the next
        ``heap()``."""
        tree = DominatorTree(self, self._source.tree_graph())
        self._source.tree_made(tree)  # queries share its capture while it is held
        return tree

    def largest_retainers(self, k: int = 10) -> RetainersTable:
        """The ``k`` objects with the largest retained sizes, as a table."""
        tree = self.dominator_tree()
        with self._edge_scope(tree._graph):
            return RetainersTable(tree.largest(k), tree.total_size, tree._graph.reachable_from_roots().count)

    def leak_suspects(self, min_share: float = 0.1, limit: int = 5) -> LeakSuspects:
        """Objects retaining at least ``min_share`` of the heap, with what they retain
        and the shortest path that keeps each alive."""
        if not 0 < min_share <= 1:
            raise ValueError(f"min_share is a fraction of the heap in (0, 1], not {min_share!r}")
        tree = self.dominator_tree()
        with self._edge_scope(tree._graph):
            return leak_suspects(self, tree, min_share, limit)

    def findex(self, *kinds: UniSet) -> Findex:
        """The relation whose class i holds objects whose first containing kind is kinds[i]."""
        return Findex(self, kinds)

    @property
    def Anything(self) -> AnythingKind:  # noqa: N802
        """The kind every object is in."""
        return AnythingKind(self)

    @property
    def Nothing(self) -> NothingKind:  # noqa: N802
        """The kind no object is in."""
        return NothingKind(self)

    # -- Stat records ----------------------------------------------------------------------
    def load(self, source: Any) -> Stat:
        """The first Stat record of a file (path), or the next one from an open file."""
        return stat_records.load(source)

    def loadall(self, source: Any) -> Iterator[Stat]:
        """Every Stat record of a file (path) or open file, in order."""
        return stat_records.load_all(source)

    def dump(self, path: str) -> None:
        """Write the heap of this process to a snapshot file (see :func:`heapscope.dump`)."""
        snapshot_writer.dump(path, self)

    # -- what sets and kinds ask the session to make ---------------------------------------
    # identity_set.py and kinds.py are below the modules that build on them (paths,
    # patterns, the relations computed in Python): they reach those through the session,
    # which imports them all, so no module imports one that imports it back.
    def _shortest_paths(
        self,
        target: IdentitySet,
        source: IdentitySet | None,
        avoid_nodes: IdentitySet | None,
        avoid_edges: tuple[tuple[object, object], ...],
    ) -> ShortestPaths:
        """``x.sp``, ``x.get_shpaths(...)``."""
        return ShortestPaths(self, target, source, avoid_nodes, avoid_edges)

    def _reference_pattern(
        self,
        x: IdentitySet,
        depth: int | None,
        er: Any,
        imdom: bool,
        bf: bool,
        src: IdentitySet | None,
        stopkind: UniSet | None,
        nocyc: bool,
    ) -> ReferencePattern:
        """``x.rp``, ``x.get_rp(...)``."""
        return ReferencePattern(self, x, depth, er, imdom, bf, src, stopkind, nocyc)

    def _product(self, factors: list[Relation]) -> ProductRelation:
        """``R1 & R2`` of relations the native classifiers cannot combine."""
        return ProductRelation(self, factors)

    def _dicts_by_owner(self, relation: Relation) -> OwnedDictRelation:
        """``R.dictof``."""
        return OwnedDictRelation(self, relation)

    def _referred_by(self, relation: Relation) -> Referrers:
        """``R.refdby``."""
        return Referrers(self, relation)

    def _set_of_kinds(self, relation: Referrers, kinds: tuple[UniSet, ...]) -> SetOfKinds:
        """``R.sokind(*kinds)``, of ``relation`` = ``R.refdby``."""
        return SetOfKinds(relation, kinds)

    def _owned_dicts(self, of: UniSet) -> OwnedDictKind:
        """``k.dictof`` of a kind or set ``of``."""
        return OwnedDictKind(of)

    def _common_heap(self, a: _native.NodeSet, b: _native.NodeSet) -> tuple[_native.NodeSet, _native.NodeSet]:
        """Re-express two sets from different captures over one graph of their union."""
        return self._source.common_heap(a, b)

    def _thread_names(self) -> dict[int, str] | None:
        """Names of the threads paths mention: the snapshot's, or None (the running
        interpreter's registry)."""
        return self._source.thread_names()


def _stat_of(nodes: _native.NodeSet) -> Stat:
    """The Clodo census of a set as a Stat (no references kept)."""
    part = nodes.partition("Clodo")
    rows = [(name, count, size) for name, count, size, _ in part.rows()]
    return Stat(part.count, part.size, part.header, rows)


def hpy() -> Session:
    """Start a heapscope session (Heapy's entry point)."""
    return Session()
