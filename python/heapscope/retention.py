"""Retained sizes from the whole-heap dominator tree, beyond Heapy.

An object's *retained size* is its own size plus the sizes of every object it
dominates: the bytes that would be freed if it alone went away (MAT's definition). The
dominator tree of a whole capture is computed once, in Rust, in near-linear time
(semi-NCA), and answers any object's retained size, immediate dominator and dominated
set afterwards. On top of it:

``h.dominator_tree()``
    the tree of the current heap (``.retained_size(obj)``, ``.immediate_dominator(obj)``,
    ``.dominated(obj)``, ``.largest(k)``);
``h.largest_retainers(k)``
    a table of the objects with the largest retained sizes;
``h.leak_suspects(min_share=0.1)``
    the objects retaining at least that share of the heap, each with what it retains by
    kind and the shortest path that keeps it alive.

Heapy's own ``x.dominos`` / ``x.domisize`` (what the *set* x retains jointly) are on
IdentitySet and agree with the tree for a single object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from . import kind_names
from .hidden import hidden_type
from .identity_set import IdentitySet

if TYPE_CHECKING:
    from . import _native
    from .session import Session

RETAINERS_HEADER = " Index   Retained   %   Objects  Kind: object"


@hidden_type
class Retainer(NamedTuple):
    """One row of the largest-retainers table."""

    object: Any
    retained: int
    share: float
    objects: int
    kind: str
    shown: str  # how the object is rendered in the table


@hidden_type
class DominatorTree:
    """The dominator tree of one capture with edges (see the module doc)."""

    __slots__ = ("_session", "_graph", "__weakref__")

    def __init__(self, session: Session, graph: _native.LiveGraph) -> None:
        self._session = session
        self._graph = graph
        graph.compute_dominators()

    @property
    def total_size(self) -> int:
        """Total size of the objects reachable from the roots."""
        return self._graph.reachable_size()

    def retained_size(self, obj: object) -> int:
        """``obj``'s own size plus the sizes of everything it dominates."""
        return self._graph.retained_size(obj)

    def immediate_dominator(self, obj: object) -> object | None:
        """The nearest object every path from the roots to ``obj`` passes through; None
        when no single object does (several roots reach it). Raises ValueError for an
        object outside the heap or unreachable from the roots."""
        kind, dom = self._graph.immediate_dominator(obj)
        if kind == "unreachable":
            raise ValueError("the object is not reachable from the roots")
        return dom

    def dominated(self, obj: object) -> IdentitySet:
        """The objects that would be freed with ``obj`` (``obj`` included)."""
        return IdentitySet(self._graph.dominated(obj), self._session)

    def largest(self, k: int = 10) -> list[Retainer]:
        """The ``k`` objects with the largest retained sizes, largest first."""
        total = self.total_size or 1
        return [
            Retainer(obj, retained, retained / total, objects, kind, self._render(obj, kind))
            for obj, retained, objects, kind in self._graph.largest_retainers(k)
        ]

    def _render(self, obj: object, kind: str) -> str:
        return render_object(self._session, obj, kind)


def render_object(session: Session, obj: object, kind: str) -> str:
    """How retainer tables and leak suspects show an object after its kind: a module's
    dict by its module's name (as Heapy's patterns show it), the rest as in byid tables.
    ``f"{kind}: {render_object(...)}"`` names one object the same way in both reports."""
    if kind == "dict of module":
        owners = session.iso(obj).owners.nodes
        if owners:
            return kind_names.render(owners[0])
    return kind_names.render(obj)


@hidden_type
class RetainersTable:
    """``h.largest_retainers(k)``: printable rows of :class:`Retainer`."""

    __slots__ = ("rows", "total_size", "total_count")

    def __init__(self, rows: list[Retainer], total_size: int, total_count: int) -> None:
        self.rows = rows
        self.total_size = total_size
        self.total_count = total_count

    def __repr__(self) -> str:
        lines = [
            f"Largest retainers in a heap of {self.total_count} objects. Total size = {self.total_size} bytes.",
            RETAINERS_HEADER,
        ]
        for i, r in enumerate(self.rows):
            lines.append(
                "%6d %10d %3d %9d  %s: %s"
                % (i, r.retained, round(r.share * 100), r.objects, r.kind, r.shown)
            )
        return "\n".join(lines)

    __str__ = __repr__

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> Retainer:
        return self.rows[i]


@hidden_type
class Suspect(NamedTuple):
    """One leak suspect."""

    object: Any
    retained: int
    share: float
    dominated: Any  # IdentitySet of what it retains
    path: str  # the first shortest path (in brief), or why there is none
    name: str = ""  # "kind: object", as h.largest_retainers() shows it


@hidden_type
class LeakSuspects:
    """``h.leak_suspects()``: objects retaining a large share of the heap, with what they
    retain and the shortest path keeping each alive."""

    __slots__ = ("suspects", "min_share", "total_size", "total_count")

    def __init__(self, suspects: list[Suspect], min_share: float, total_size: int, total_count: int) -> None:
        self.suspects = suspects
        self.min_share = min_share
        self.total_size = total_size
        self.total_count = total_count

    def __repr__(self) -> str:
        head = (
            f"Leak suspects: objects retaining at least {self.min_share:.0%} of the heap "
            f"({self.total_count} objects, {self.total_size} bytes)."
        )
        if not self.suspects:
            return head + "\nNone found."
        lines = [head]
        for i, s in enumerate(self.suspects):
            lines.append(
                f"{i:2d}: {s.name} retains {s.retained} bytes ({s.share:.1%}) "
                f"in {s.dominated.count} objects"
            )
            all_rows = s.dominated.by("Clodo").rows
            rows = all_rows[:5]
            kinds = ", ".join(f"{r.count} {r.name}" for r in rows)
            more = len(all_rows) - len(rows)
            lines.append(f"    retained kinds: {kinds}{f', ... ({more} more kinds)' if more > 0 else ''}")
            lines.append(f"    kept alive by: {s.path}")
        return "\n".join(lines)

    __str__ = __repr__

    def __len__(self) -> int:
        return len(self.suspects)

    def __getitem__(self, i: int) -> Suspect:
        return self.suspects[i]


def leak_suspects(session: Session, tree: DominatorTree, min_share: float, limit: int) -> LeakSuspects:
    """Objects whose retained size is at least ``min_share`` of the reachable heap, the
    largest first; nested suspects (dominated by a reported one) are left out, so one
    leaking container is reported once, not with each of its dominators down the tree."""
    total = tree.total_size
    count = tree._graph.reachable_from_roots().count
    suspects: list[Suspect] = []
    reported: list[IdentitySet] = []
    reported_addresses: set[int] = set()
    for r in tree.largest(limit * 4):
        if r.share < min_share or len(suspects) >= limit:
            break
        if any(r.object in d for d in reported):
            continue
        # Report the deepest object that still retains the share: a chain of single
        # dominators (module -> its dict -> the list) names the container itself.
        obj, retained = _deepest(tree, r.object, r.retained, min_share * total)
        one = session.iso(obj)
        # by address, not `is`: a snapshot's objects are new proxies at each call
        address = one._nodes.addresses()[0]
        if address in reported_addresses:
            continue  # reached again from another dominator of the same chain
        reported_addresses.add(address)
        dominated = tree.dominated(obj)
        sp = one.sp
        path = sp[0].brief if sp.numpaths else (sp.reason or "<No path from the roots>")
        kind = one.by("Clodo").rows[0].name
        name = f"{kind}: {render_object(session, obj, kind)}"
        suspects.append(Suspect(obj, retained, retained / (total or 1), dominated, path, name))
        reported.append(dominated)
    return LeakSuspects(suspects, min_share, total, count)


def _deepest(tree: DominatorTree, obj: Any, retained: int, threshold: float) -> tuple[Any, int]:
    """Walks down the dominator tree while one child keeps nearly all (90%) of the
    retained size and stays above ``threshold``: a module's dict retaining a cache list
    is reported as the list."""
    while True:
        children = tree._graph.dominator_children(obj, 1)
        if not children:
            return obj, retained
        child, size = children[0]
        if size < threshold or size < 0.9 * retained:
            return obj, retained
        obj, retained = child, size
