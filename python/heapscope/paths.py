"""Shortest reference paths: ``x.sp`` (``x.shpaths``, ``x.get_shpaths(...)``).

All shortest paths from the roots (or from a source set) to the nearest objects of x,
counted exactly (``numpaths`` is a Python int: paths multiply, and a modest DAG has more
than 2**64 of them) and enumerated lazily in a stable order: by relation kind, then index
or name. Printing shows ten paths at a time like Heapy::

     0: h.Root.i0_modules['__main__'].__dict__['cache'][0]
    <... 990 more paths ...>

``p[i]`` (negative indices count from the end), ``p.more``, ``p.all``, and
``p.avoided(*hops)`` (the same search avoiding every edge the paths take at those hops:
the next route; a hop past the paths' length is an IndexError, negative hops count from
the end). As in Heapy a page shows the last path rather than ``<... 1 more paths ...>``.
``p.aslist()`` is every path as Heapy lists them, printing with its ``'%s'`` placeholder
for the source (``str(q) % 'h.Root'``), and ``p.sets`` the objects at each step. The
search runs in Rust over a capture with edges and labels.

From the roots, an object named by several root members counts once (the first
reported: interpreter members come first), and the interpreter's members are searched
before the threads' (frames, thread states): a module global prints as
``h.Root.i0_modules['m'].__dict__['x']`` whichever frames run code of ``m``; what only a
frame holds prints as ``h.Root.thread('MainThread').frame('handler').f_locals['x']``
(see :mod:`heapscope.root`).

A path longer than 30 steps prints its first and last ten steps around
``... 999,980 more steps ...`` (``p.brief``, ``repr(p)``, the pages of ``x.sp``);
``str(p)`` and ``p.full`` are always the whole path. When there is no path, ``x.sp``
prints ``<No path from the roots: ...>`` with the reason (``sp.reason``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .hidden import hidden_type
from .identity_set import IdentitySet
from .kinds import reprefix
from .root import RootNamer, parse_root
from .tables import Page, page_end

from . import _native

if TYPE_CHECKING:
    from .session import Session

PAGE_PATHS = 10
BRIEF_STEPS = 10  # a path printed in brief keeps this many steps at each end


@hidden_type
class Path:
    """One path: prints as ``h.Root.i0_modules['__main__'].__dict__['x']``.

    ``str(p)`` (and ``p.full``) is the whole path; ``p.brief`` (and ``repr(p)``) leaves
    out the middle of a path longer than 30 steps. The paths of ``aslist()`` print as
    Heapy's do, with ``%s`` for the source (``"%s.i0_modules['__main__']..."``) and the
    repr of that string as their repr."""

    __slots__ = ("_paths", "index", "_text", "_srcname")

    def __init__(self, paths: ShortestPaths, index: int, srcname: str | None = None) -> None:
        self._paths = paths
        self.index = index
        self._text: str | None = None
        self._srcname = srcname

    @property
    def full(self) -> str:
        """The whole path (for a long path: a long string)."""
        if self._text is None:
            self._text = self._paths._render(self.index, brief=False, srcname=self._srcname)
        return self._text

    @property
    def brief(self) -> str:
        """The path with ``... N more steps ...`` for the middle of a long one."""
        return self._paths._render(self.index, brief=True, srcname=self._srcname)

    def __str__(self) -> str:
        return self.full

    def __repr__(self) -> str:
        return self.brief if self._srcname is None else repr(self.full)

    def __len__(self) -> int:
        """Number of references in the path."""
        return self._paths._handle.length

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and self.full == other.full

    def __hash__(self) -> int:
        return hash(self.full)

    @property
    def objects(self) -> list[object]:
        """The objects along the path, from the first one after the source to the target."""
        objs = self._paths._handle.objects(self.index)
        return list(objs or [])


@hidden_type
class ShortestPaths:
    """All shortest paths to a set of objects (see the module doc)."""

    __slots__ = ("_session", "_handle", "_source", "_nodes", "_avoid_edges", "maxpaths", "_named")

    def __init__(
        self,
        session: Session,
        target: IdentitySet,
        source: IdentitySet | None = None,
        avoid_nodes: IdentitySet | None = None,
        avoid_edges: tuple[tuple[object, object], ...] = (),
    ) -> None:
        also = [s._nodes for s in (source, avoid_nodes) if s is not None]
        nodes = session._in_edge_graph(target._nodes, *also)
        graph = nodes.graph
        src = graph.translate(source._nodes)[0] if source is not None else None
        avoid = graph.translate(avoid_nodes._nodes)[0] if avoid_nodes is not None else None
        pairs = [(graph.node_id(a), graph.node_id(b)) for a, b in avoid_edges]
        edges = tuple((a, b) for a, b in pairs if a is not None and b is not None)
        self._setup(session, source, (nodes, src, avoid), edges)

    def _setup(
        self,
        session: Session,
        source: IdentitySet | None,
        nodes: tuple[_native.NodeSet, _native.NodeSet | None, _native.NodeSet | None],
        avoid_edges: tuple[tuple[int, int], ...],
    ) -> None:
        """Searches on the capture of ``nodes`` (target, source, avoided nodes), avoiding
        edges given as node-id pairs of that capture."""
        self._session = session
        self._source = source
        self._nodes = nodes
        self._avoid_edges = avoid_edges
        self.maxpaths = PAGE_PATHS
        self._named = False
        target, src, avoid = nodes
        self._handle: _native.ShortestPaths = target.shortest_paths(src, avoid, list(avoid_edges))

    @property
    def numpaths(self) -> int:
        """The exact number of shortest paths (multi-references counted)."""
        return self._handle.numpaths

    @property
    def targets(self) -> IdentitySet:
        """The objects the paths end at: the members of x nearest the source."""
        return IdentitySet(self._handle.reached(), self._session)

    def _srcname(self, index: int) -> str:
        if self._source is None:
            return f"{reprefix(self._session)}Root"
        if self._source.count == 1:
            return "Src"
        first = self._handle.source(index)
        return IdentitySet(first, self._session).brief if first is not None else "Src"

    def _name_roots(self) -> None:
        """Tells the native paths how to write the root members they start with, once
        per path set (thread and frame names are looked up here)."""
        self._named = True
        if self._source is not None:
            return
        starts = self._handle.start_roots()
        if not any(parse_root(name).thread is not None for _, name in starts):
            return
        namer = RootNamer(self._nodes[0].graph.roots(), self._session._thread_names())
        self._handle.set_root_texts([(label, namer.text(name)) for label, name in starts])

    def _render(self, index: int, brief: bool, srcname: str | None = None) -> str:
        if not self._named:
            self._name_roots()
        src = self._srcname(index) if srcname is None else srcname
        text = self._handle.brief(index, src, BRIEF_STEPS) if brief else self._handle.text(index, src)
        if text is None:
            raise IndexError(f"path index {index} out of range ({self.numpaths} paths)")
        return text

    def _path(self, index: int) -> Path | None:
        return Path(self, index) if 0 <= index < self.numpaths else None

    @property
    def reason(self) -> str | None:
        """Why there is no path (None when there are paths), as printed:
        ``<No path from the roots: ...>``."""
        why = self._handle.no_path()
        if why is None:
            return None
        src = "the roots" if self._source is None else "the source"
        if why == "empty":
            return "<No path: the set is empty>"
        if why == "avoided":
            return f"<No path from {src}: every route passes through the avoided objects or references>"
        if self._source is None:
            heapu = f"{reprefix(self._session)}heapu()"
            return (
                "<No path from the roots: they are not reachable from the roots (held only by "
                f"unreachable cycles, untraversable containers or C code); see {heapu}>"
            )
        return "<No path from the source: the objects are not reachable from it>"

    def __getitem__(self, index: int) -> Path:
        if not isinstance(index, int):
            raise TypeError(f"paths are indexed by int, not {type(index).__name__}")
        n = self.numpaths
        i = index + n if index < 0 else index
        path = self._path(i) if 0 <= i < n else None
        if path is None:
            raise IndexError(f"path index {index} out of range ({n} paths)")
        return path

    def __iter__(self) -> Iterator[Path]:
        return self.iter()

    def iter(self, start: int = 0, stop: int | None = None) -> Iterator[Path]:
        """Paths ``start..stop``, computed one at a time."""
        end = self.numpaths if stop is None else min(stop, self.numpaths)
        i = start
        while i < end:
            path = self._path(i)
            if path is None:
                return
            yield path
            i += 1

    def aslist(self) -> list[Path]:
        """Every path, as Heapy lists them: each prints with ``%s`` standing for the
        source (``str(q) % 'h.Root'`` is the path from the roots); beware, there may be
        very many."""
        return [Path(self, i, "%s") for i in range(self.numpaths)]

    @property
    def sets(self) -> tuple[IdentitySet, ...]:
        """The objects at each step of the paths (Heapy's ``sets``): ``sets[0]`` the
        source objects the paths leave (empty for paths from the roots: ``h.Root`` is no
        object), ``sets[-1]`` the targets; empty when there is no path."""
        out: list[IdentitySet] = []
        while (level := self._handle.level_set(len(out))) is not None:
            out.append(IdentitySet(level, self._session))
        return tuple(out)

    def _hops(self, hops: tuple[int, ...]) -> list[int]:
        """The hops as indices 0..length-1 (negative ones count from the end, as Heapy's
        tuple of levels does); IndexError past the paths' length."""
        length = self._handle.length
        out: list[int] = []
        for h in hops:
            if not isinstance(h, int) or isinstance(h, bool):
                raise TypeError(f"hops are ints, not {h!r}")
            i = h + length if h < 0 else h
            if not 0 <= i < length:
                raise IndexError(f"hop {h} out of range: the paths have {length} hops")
            out.append(i)
        return out

    def avoided(self, *hops: int) -> ShortestPaths:
        """The search again, avoiding every edge these paths take at the given hops (0 is
        the first reference from the source, -1 the last): the next route."""
        edges = tuple(self._handle.edges_at(self._hops(hops)))
        # the same capture: the node ids of these edges mean the same objects there
        again = ShortestPaths.__new__(ShortestPaths)
        again._setup(self._session, self._source, self._nodes, self._avoid_edges + edges)
        return again

    copy_but_avoid_edges_at_levels = avoided

    def edges_at(self, *hops: int) -> list[tuple[int, int]]:
        """The paths' edges at these hops, as node-id pairs of the underlying capture."""
        return list(self._handle.edges_at(self._hops(hops)))

    # -- printing ---------------------------------------------------------------------
    def _end(self, start: int) -> int:
        """Where the page starting at path ``start`` ends (Heapy's paging)."""
        n = self.numpaths
        return page_end(start, self.maxpaths, lambda i: i < n)

    def _page(self, start: int) -> str:
        n = self.numpaths
        if n == 0:
            return self.reason or "<No more paths>"
        stop = self._end(start)
        lines = ["%2d: %s" % (p.index, p.brief) for p in self.iter(start, stop)]
        left = n - stop
        if left > 0:
            lines.append(f"<... {left} more paths ...>")
        elif not lines and n:
            lines.append("<No more paths>")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self._page(0)

    __str__ = __repr__

    @property
    def more(self) -> Page:
        """The next page of paths."""
        return Page(self._page, self._end(0), self._end)

    @property
    def all(self) -> str:
        """Every path, one per line (beware: there may be very many), each in brief."""
        if self.numpaths == 0:
            return self.reason or ""
        return "\n".join("%2d: %s" % (p.index, p.brief) for p in self.iter())

    def _repr_pretty_(self, p: object, cycle: bool) -> None:
        p.text(repr(self))  # type: ignore[attr-defined]
