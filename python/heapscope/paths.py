"""Shortest reference paths: ``x.sp`` (``x.shpaths``, ``x.get_shpaths(...)``).

All shortest paths from the roots (or from a source set) to the nearest objects of x,
counted exactly (``numpaths`` is a Python int: paths multiply, and a modest DAG has more
than 2**64 of them) and enumerated lazily in a stable order: by relation kind, then index
or name. Printing shows ten paths at a time like Heapy::

     0: h.Root.i0_modules['__main__'].__dict__['cache'][0]
    <... 990 more paths ...>

``p[i]`` (negative indices count from the end), ``p.more``, ``p.all``, and
``p.avoided(*hops)`` (the same search avoiding every edge the paths take at those hops:
the next route). The search runs in Rust over a capture with edges and labels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .kinds import reprefix
from .tables import Page

from . import _native

if TYPE_CHECKING:
    from .identity_set import IdentitySet
    from .session import Session

PAGE_PATHS = 10


class Path:
    """One path: prints as ``h.Root.i0_modules['__main__'].__dict__['x']``."""

    __slots__ = ("_paths", "index", "_text")

    def __init__(self, paths: ShortestPaths, index: int, text: str) -> None:
        self._paths = paths
        self.index = index
        self._text = text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return repr(self._text)

    def __len__(self) -> int:
        """Number of references in the path."""
        return self._paths._handle.length

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and self._text == other._text

    def __hash__(self) -> int:
        return hash(self._text)

    @property
    def objects(self) -> list[object]:
        """The objects along the path, from the first one after the source to the target."""
        objs = self._paths._handle.objects(self.index)
        return list(objs or [])


class ShortestPaths:
    """All shortest paths to a set of objects (see the module doc)."""

    __slots__ = ("_session", "_handle", "_source", "_nodes", "_avoid_edges", "maxpaths")

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
        target, src, avoid = nodes
        self._handle: _native.ShortestPaths = target.shortest_paths(src, avoid, list(avoid_edges))

    @property
    def numpaths(self) -> int:
        """The exact number of shortest paths (multi-references counted)."""
        return self._handle.numpaths

    @property
    def targets(self) -> IdentitySet:
        """The objects the paths end at: the members of x nearest the source."""
        from .identity_set import IdentitySet

        return IdentitySet(self._handle.reached(), self._session)

    def _srcname(self, index: int) -> str:
        if self._source is None:
            return f"{reprefix(self._session)}Root"
        if self._source.count == 1:
            return "Src"
        from .identity_set import IdentitySet

        first = self._handle.source(index)
        return IdentitySet(first, self._session).brief if first is not None else "Src"

    def _path(self, index: int) -> Path | None:
        text = self._handle.text(index, self._srcname(index))
        return None if text is None else Path(self, index, text)

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

    def avoided(self, *hops: int) -> ShortestPaths:
        """The search again, avoiding every edge these paths take at the given hops (0 is
        the first reference from the source): the next route."""
        for h in hops:
            if not isinstance(h, int) or h < 0:
                raise ValueError(f"hops are non-negative ints, not {h!r}")
        edges = tuple(self._handle.edges_at(list(hops)))
        # the same capture: the node ids of these edges mean the same objects there
        again = ShortestPaths.__new__(ShortestPaths)
        again._setup(self._session, self._source, self._nodes, self._avoid_edges + edges)
        return again

    copy_but_avoid_edges_at_levels = avoided

    def edges_at(self, *hops: int) -> list[tuple[int, int]]:
        """The paths' edges at these hops, as node-id pairs of the underlying capture."""
        return list(self._handle.edges_at(list(hops)))

    # -- printing ---------------------------------------------------------------------
    def _page(self, start: int) -> str:
        n = self.numpaths
        lines = ["%2d: %s" % (p.index, p) for p in self.iter(start, start + self.maxpaths)]
        left = n - (start + self.maxpaths)
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
        return Page(self._page, self.maxpaths, self.maxpaths)

    @property
    def all(self) -> str:
        """Every path, one per line (beware: there may be very many)."""
        return "\n".join("%2d: %s" % (p.index, p) for p in self.iter())

    def _repr_pretty_(self, p: object, cycle: bool) -> None:
        p.text(repr(self))  # type: ignore[attr-defined]
