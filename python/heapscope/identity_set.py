"""IdentitySet: a finite set of real objects, by identity, over one captured graph.

Holds strong references (through its graph). Prints as its partition by its equivalence
relation (default Clodo); ``len(x)`` is the number of rows, ``x[i]`` the i-th row as a
set; iterating is an error by design (use ``x.nodes`` for the objects). Set algebra runs
in Rust over bitsets when both operands come from the same capture.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from . import kind_names
from . import _native
from ._native import NodeSet
from .kinds import (
    AnythingKind,
    ClassKind,
    Complement,
    ComputedRelation,
    DictOfKind,
    Intersection,
    EquivalenceRelation,
    Kind,
    ModuleKind,
    Relation,
    SizeKind,
    TypeKind,
    UniSet,
    Union,
)
from .byid import IdPartition
from .stat import Stat, StatRow, stat_rows
from .tables import Paged, PagedRows, Table, id_table, set_table

if TYPE_CHECKING:  # made by the session, which imports their modules (they build on this one)
    from .paths import ShortestPaths
    from .reference_pattern import ReferencePattern
    from .session import Session

ERS = ("Clodo", "Type", "Size", "Id", "Module", "Unity")


def _er_name(er: str | Relation) -> str | ComputedRelation:
    """Canonical name of a relation or product (``'Type&Size'``); validates it. Relations
    computed in Python are kept as objects."""
    if isinstance(er, ComputedRelation):
        return er
    if isinstance(er, Relation) and not isinstance(er, EquivalenceRelation):
        raise TypeError(f"not a relation a set can be partitioned by: {er!r}")
    name = er.name if isinstance(er, EquivalenceRelation) else er
    factors = [f.strip() for f in name.split("&")]
    for f in factors:
        if f not in ERS:
            raise ValueError(f"unknown equivalence relation {f!r}; expected one of {', '.join(ERS)} or a product 'A&B'")
    if len(factors) > 1 and "Id" in factors:
        raise ValueError("Id cannot be part of a product relation")
    return "&".join(factors)
MAX_SUMMARY_LENGTH = 80


class PartitionRow(NamedTuple):
    """One row of a printed partition."""

    name: str
    count: int
    size: int


class IdentitySet(Paged, UniSet):
    """A set of objects by identity; see the module doc."""

    _is_concrete_set = True
    __slots__ = ("_nodes", "_session", "_er", "_part", "_table")

    def __init__(self, nodes: NodeSet, session: Session, er: str | Relation = "Clodo") -> None:
        if isinstance(er, str) and er in ("Rcs", "Via", "Idset", "Prod"):
            er = getattr(session, er)  # relations computed in Python, by name
        er = _er_name(er)
        self._nodes = nodes
        self._session = session
        self._er = er
        # _part and _table are left unset until computed: a whole partition's rows are
        # made by the hundred thousand, each slot set costs

    # -- sizes and members -------------------------------------------------------------
    @property
    def count(self) -> int:
        """Number of objects."""
        return self._nodes.count

    @property
    def size(self) -> int:
        """Total individual size in bytes."""
        return self._nodes.size

    indisize = size

    @property
    def nodes(self) -> list[Any]:
        """The member objects (a new list, address order)."""
        return self._nodes.objects()

    @property
    def theone(self) -> Any:
        """The only member; raises NotOneObjectError otherwise."""
        return self._nodes.theone()

    @property
    def er(self) -> EquivalenceRelation | ComputedRelation:
        """The equivalence relation the set is partitioned by."""
        if isinstance(self._er, ComputedRelation):
            return self._er
        return EquivalenceRelation(self._session, self._er)

    byidset = property(lambda self: self.by(self._session.Idset), doc="Each object its own row (a set).")
    byrcs = property(lambda self: self.by(self._session.Rcs), doc="By the classes of the referrers (Rcs).")
    byvia = property(lambda self: self.by(self._session.Via), doc="By the labels of the references holding each object (Via).")
    byprod = property(lambda self: self.by(self._session.Prod), doc="By allocation site (tracemalloc).")

    @property
    def kind(self) -> UniSet:
        """The kind of the set: its row kinds (under its equivalence relation) joined."""
        kinds = sorted(self._row_kinds(), key=_kind_order)
        if not kinds:
            return self._session.Nothing
        if len(kinds) == 1:
            return kinds[0]
        return Union(*kinds)

    def _row_kinds(self) -> list[UniSet]:
        """The kind of each row of the partition, in the partition's order."""
        part = self._partition()
        if isinstance(self._er, ComputedRelation):
            return self._er.kinds_of_rows(part)
        return [self._product_kind(factors) for factors in part.row_kinds()]

    def _product_kind(self, factors: list[tuple[str, Any, int | None]]) -> UniSet:
        names = self._er.split("&")
        kinds = [self._row_kind(er, *f) for er, f in zip(names, factors)]
        return kinds[0] if len(kinds) == 1 else Intersection(*kinds)

    def _row_kind(self, er: str, tag: str, obj: Any, number: int | None) -> UniSet:
        s = self._session
        if tag == "type":
            return ClassKind(s, obj) if er == "Clodo" else TypeKind(s, obj)
        if tag == "dictof":
            return DictOfKind(s, obj)
        if tag == "size":
            return SizeKind(s, number or 0)
        if tag == "module":
            return ModuleKind(s, obj.text if type(obj) is _native.NodeProxy else obj.__name__)
        if tag == "id":
            return IdentitySet(self._nodes.graph.set_of([obj]), s)  # this capture's node
        if tag == "notmodule":
            return Complement(TypeKind(s, type(sys)).alt("<="))
        return AnythingKind(s)

    # -- partitions ----------------------------------------------------------------------
    def by(self, er: str | EquivalenceRelation) -> IdentitySet:
        """The same set, printed and indexed by another equivalence relation."""
        return IdentitySet(self._nodes, self._session, er)

    byclodo = property(lambda self: self.by("Clodo"), doc="Partition by class, dicts by owner.")
    bytype = property(lambda self: self.by("Type"), doc="Partition by type.")
    bysize = property(lambda self: self.by("Size"), doc="Partition by individual size.")
    byid = property(lambda self: self.by("Id"), doc="One row per object.")
    bymodule = property(lambda self: self.by("Module"), doc="Each module its own row.")
    byunity = property(lambda self: self.by("Unity"), doc="One row for everything.")

    def _partition(self) -> Any:
        try:
            return self._part
        except AttributeError:
            pass
        if isinstance(self._er, ComputedRelation):
            self._part = self._er.partition(self)
        elif self._er == "Id":
            self._part = IdPartition(self._nodes)
        else:
            self._part = self._nodes.partition(self._er)
        return self._part

    def __len__(self) -> int:
        return len(self._partition())

    @property
    def rows(self) -> list[PartitionRow]:
        """The partition's rows as data: ``(name, count, size)``, in printed order."""
        if self._er == "Id":
            return [PartitionRow(text, 1, size) for text, size in self._partition().rendered()]
        return [PartitionRow(name, count, size) for name, count, size in self._set_rows()]

    def get_rows(self, idx: int = 0) -> Any:
        """The rows from ``idx`` on, as Heapy's ``x.partition.get_rows()`` yields them:
        ``index``, ``name``, ``count``, ``size``, ``cumulsize``, ``set`` and ``kind``."""
        for row in stat_rows(self.rows, idx):
            yield PartRow(self, row)

    def __getitem__(self, index: int | slice) -> IdentitySet:
        part = self._partition()
        n = len(part)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step != 1:
                raise ValueError("row slices must have step 1")
            if start >= stop:
                return self._wrap(self._nodes.difference(self._nodes))
            return self._wrap(part.rows_set(start, stop))
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"row {index} out of range for a partition of {n} rows")
        return self._wrap(part.rows_set(index, index + 1))

    def __iter__(self) -> Any:
        raise TypeError(
            "an IdentitySet is not iterable by design: index rows with x[i], or use x.nodes for the objects"
        )

    # -- printing ------------------------------------------------------------------------
    def _get_table(self) -> Table:
        try:
            return self._table
        except AttributeError:
            self._table = self._make_id_table() if self._er == "Id" else self._make_set_table()
            return self._table

    def _set_rows(self) -> list[tuple[str, int, int]]:
        rows = [(name, count, size) for name, count, size, _ in self._partition().rows()]
        if self._er == "Module":
            rows.sort(key=lambda r: (-r[2], r[0]))
        return rows

    def _make_set_table(self) -> Table:
        part = self._partition()
        rows: Sequence[tuple[str, int, int]] = (
            self._set_rows()
            if self._er == "Module"
            else PagedRows(len(part), lambda start, stop: [(n, c, s) for n, c, s, _ in part.rows(start, stop)])
        )
        return set_table(part.count, part.size, part.header, rows)

    def _make_id_table(self) -> Table:
        part = self._partition()
        return id_table(part.count, part.size, part.label, part.kind_header, part.table_rows(), part.cumulative)

    # -- references ------------------------------------------------------------------------
    @property
    def referrers(self) -> IdentitySet:
        """Objects that refer to a member (reachable from the roots, or members)."""
        return IdentitySet(self._session._in_edge_graph(self._nodes).referrers(), self._session)

    @property
    def referents(self) -> IdentitySet:
        """Objects a member refers to (as tp_traverse and heapscope's per-type rules see it)."""
        return IdentitySet(self._session._in_edge_graph(self._nodes).referents(), self._session)

    @property
    def owners(self) -> IdentitySet:
        """The objects whose ``__dict__`` a member is (found without materialising any)."""
        return IdentitySet(self._session._in_edge_graph(self._nodes).dict_owners(), self._session)

    # -- why it is alive -----------------------------------------------------------------
    def get_shpaths(
        self,
        src: IdentitySet | None = None,
        avoid_nodes: IdentitySet | None = None,
        avoid_edges: Any = (),
    ) -> ShortestPaths:
        """All shortest paths to the members nearest the roots (or ``src``), never passing
        through ``avoid_nodes`` nor along ``avoid_edges`` (pairs of objects)."""
        return self._session._shortest_paths(self, src, avoid_nodes, tuple(avoid_edges))

    @property
    def sp(self) -> ShortestPaths:
        """All shortest paths from the roots: ``x.sp``, ``x.sp[0]``, ``x.sp.avoided(0)``."""
        return self.get_shpaths()

    shpaths = sp

    @property
    def pathsin(self) -> ShortestPaths:
        """The references from the members' direct referrers to the members."""
        return self.get_shpaths(src=self.referrers)

    @property
    def pathsout(self) -> ShortestPaths:
        """The references from the members to their referents."""
        return self.referents.get_shpaths(src=self)

    def get_rp(
        self,
        depth: int | None = None,
        er: Any = None,
        imdom: bool = False,
        bf: bool = False,
        src: IdentitySet | None = None,
        stopkind: UniSet | None = None,
        nocyc: bool = False,
    ) -> ReferencePattern:
        """The reference pattern: referrers grouped by ``er``, then theirs, to ``depth``
        (default 7); ``imdom=True`` follows immediate dominators instead of referrers."""
        return self._session._reference_pattern(self, depth, er, imdom, bf, src, stopkind, nocyc)

    @property
    def rp(self) -> ReferencePattern:
        """The reference pattern of the set (``x.get_rp()`` with defaults)."""
        return self.get_rp()

    @property
    def dominos(self) -> IdentitySet:
        """What would be freed if the references to the members went: the members and
        everything reachable only through them."""
        return IdentitySet(self._session._in_edge_graph(self._nodes).dominos(), self._session)

    @property
    def domisize(self) -> int:
        """Total size of ``dominos``: the set's retained size."""
        return self._session._in_edge_graph(self._nodes).dominos().size

    @property
    def imdom(self) -> IdentitySet:
        """The immediate dominators: referrers reachable from the roots without passing
        through another referrer."""
        return IdentitySet(self._session._in_edge_graph(self._nodes).imdom(), self._session)

    def reachable(self) -> IdentitySet:
        """Everything reachable from the members, members included."""
        return IdentitySet(self._session._in_edge_graph(self._nodes).closure(), self._session)

    # -- frozen views --------------------------------------------------------------------
    @property
    def stat(self) -> Stat:
        """The partition as a :class:`Stat`: numbers and kind names, no references."""
        if self._er == "Id":
            part = self._partition()
            return Stat(
                part.count,
                part.size,
                part.kind_header,
                [(text, 1, size) for text, size in part.rendered()],
                format="IdFormat",
                kindname=part.label,
            )
        part = self._partition()
        return Stat(part.count, part.size, part.header, self._set_rows())

    def diff(self, other: IdentitySet) -> Stat:
        """Heapy's difference table of ``self.stat - other.stat``."""
        return self.stat - other.stat

    @property
    def parts(self) -> Parts:
        """The row sets, in the table's order: a sequence whose rows are made as they
        are used (Heapy's "iterable object"; a partition files each member once, so all
        rows together are linear in the set)."""
        return Parts(self)

    @property
    def partition(self) -> IdentitySet:
        """The set itself, printed as its partition (Heapy's ``x.partition``)."""
        return self

    @property
    def brief(self) -> str:
        """A one-line summary: ``<count (kinds...): members...>``, at most 80 characters."""
        part = self._nodes.partition("Clodo")
        rows = part.rows()
        names = sorted(r[0] for r in rows)
        if not names:
            return "<0 Nothing>"
        kinds = names[0] if len(names) == 1 else "(" + " | ".join(names) + ")"
        s = f"<{self.count} {kinds}: "
        budget = len(s)
        pieces: list[str] = []
        for i, (name, count, _size, _o) in enumerate(rows):
            row = part.rows_set(i, i + 1)
            members = row.objects()
            modules = self._module_names(row, members) if name == "dict of module" else None
            rendered = kind_names.join_within(
                modules if modules is not None else (kind_names.render(o) for o in members),
                MAX_SUMMARY_LENGTH - budget,
            )
            if len(rows) > 1:
                rendered = f"<{count} {name}: {rendered}>"
            pieces.append(rendered)
            budget += len(rendered) + 3
            if budget > MAX_SUMMARY_LENGTH:
                break
        return _close_brief(s, pieces)

    def _module_names(self, dicts: NodeSet, members: list[Any]) -> list[str] | None:
        """The names of the modules whose ``__dict__`` each of ``dicts`` is: a snapshot
        knows each dict's owner; a live heap looks them up in ``sys.modules`` (no
        capture needed)."""
        if dicts.graph.live:
            return kind_names.module_dict_names(members)
        owners = IdentitySet(dicts, self._session).owners.nodes
        return [kind_names.render(m) for m in owners] if len(owners) == len(members) else None

    # -- set algebra ---------------------------------------------------------------------
    # Two IdentitySets combine by identity (bitsets, in Rust). With a kind, & and -
    # select members (in Rust over this set's graph); |, ^ and ~ stay symbolic.
    def _select(self, nodes: NodeSet) -> NodeSet:
        if nodes.same_heap(self._nodes):
            return nodes.intersection(self._nodes)
        return nodes.graph.set_of(self._nodes.objects()).intersection(nodes)

    def _contains(self, obj: object) -> bool:
        return bool(self._nodes.contains_object(obj))

    def _session_of(self) -> Session:
        return self._session

    def _pair(self, other: IdentitySet) -> tuple[NodeSet, NodeSet]:
        if self._nodes.same_heap(other._nodes):
            return self._nodes, other._nodes
        return self._session._common_heap(self._nodes, other._nodes)

    def _wrap(self, nodes: NodeSet) -> IdentitySet:
        """A set of ``nodes`` with this set's session and relation (no checks: a whole
        partition's rows are made with it)."""
        out = object.__new__(IdentitySet)
        out._nodes = nodes
        out._session = self._session
        out._er = self._er
        return out

    def __and__(self, other: UniSet) -> IdentitySet:  # type: ignore[override]
        if isinstance(other, IdentitySet):
            a, b = self._pair(other)
            return self._wrap(a.intersection(b))
        if isinstance(other, UniSet):
            return self._wrap(other._select(self._nodes))
        return NotImplemented

    __rand__ = __and__

    def __sub__(self, other: UniSet) -> IdentitySet:  # type: ignore[override]
        if isinstance(other, IdentitySet):
            a, b = self._pair(other)
            return self._wrap(a.difference(b))
        if isinstance(other, UniSet):
            return self._wrap(self._nodes.difference(other._select(self._nodes)))
        return NotImplemented

    def __or__(self, other: UniSet) -> UniSet:  # type: ignore[override]
        if isinstance(other, IdentitySet):
            a, b = self._pair(other)
            return self._wrap(a.union(b))
        return UniSet.__or__(self, other)

    def __xor__(self, other: UniSet) -> UniSet:  # type: ignore[override]
        if isinstance(other, IdentitySet):
            a, b = self._pair(other)
            return self._wrap(a.symmetric_difference(b))
        return UniSet.__xor__(self, other)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdentitySet):
            a, b = self._pair(other)
            return bool(a.issubset(b) and b.issubset(a))
        if isinstance(other, Kind):
            return False
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __le__(self, other: UniSet) -> bool:
        if isinstance(other, IdentitySet):
            a, b = self._pair(other)
            return bool(a.issubset(b))
        return bool(self._nodes.issubset(other._select(self._nodes)))

    def __lt__(self, other: UniSet) -> bool:
        if isinstance(other, IdentitySet):
            return self.__le__(other) and self != other
        return self.__le__(other)

    def __ge__(self, other: UniSet) -> bool:
        if isinstance(other, IdentitySet):
            return other.__le__(self)
        raise TypeError("a set cannot contain a symbolic kind")

    def __gt__(self, other: UniSet) -> bool:
        if isinstance(other, IdentitySet):
            return other.__lt__(self)
        raise TypeError("a set cannot contain a symbolic kind")

    def __hash__(self) -> int:
        return hash(tuple(self._nodes.addresses()))

    def disjoint(self, other: UniSet) -> bool:
        return (self & other).count == 0

    def __contains__(self, obj: object) -> bool:
        return self._contains(obj)


class Parts(Sequence):  # type: ignore[type-arg]
    """``x.parts``: the rows of ``x``'s partition as sets, made when indexed or iterated
    (a whole heap by Via has a row per distinct set of labels, hundreds of thousands;
    iterating makes them a page at a time and drops each one the caller drops)."""

    PAGE = 1024
    __slots__ = ("_of", "_part")

    def __init__(self, of: IdentitySet) -> None:
        self._of = of
        self._part = of._partition()

    def __len__(self) -> int:
        return len(self._part)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:
                return [self._of._wrap(n) for n in self._part.row_sets(start, max(start, stop))]
            return [self[k] for k in range(start, stop, step)]
        return self._of[i]

    def __iter__(self) -> Iterator[IdentitySet]:
        # _wrap inlined: this loop runs once per row of a partition of a whole heap
        new, cls, session, er = object.__new__, IdentitySet, self._of._session, self._of._er
        for start in range(0, len(self), self.PAGE):
            for nodes in self._part.row_sets(start, start + self.PAGE):
                out = new(cls)
                out._nodes = nodes
                out._session = session
                out._er = er
                yield out

    def __repr__(self) -> str:
        return repr(list(self))


class PartRow(StatRow):
    """A row of a partition (see :meth:`IdentitySet.get_rows`): a :class:`StatRow` with
    the row's ``set`` and ``kind``."""

    __slots__ = ("_of",)

    def __init__(self, of: IdentitySet, row: StatRow) -> None:
        super().__init__(row.index, row.name, row.count, row.size, row.cumulsize)
        self._of = of

    @property
    def set(self) -> IdentitySet:
        """The row's objects."""
        return self._of[self.index]

    @property
    def kind(self) -> UniSet:
        """The row's class as a kind."""
        return self.set.kind


def _kind_order(kind: UniSet) -> str:
    return getattr(kind, "brief", "")


def _close_brief(head: str, pieces: list[str]) -> str:
    """A brief from its head (``<count kinds: ``) and the rendered pieces."""
    if len(pieces) > 1:
        pieces.sort(key=lambda x: x[x.index(" "):])
    s = head + " | ".join(pieces) + ">"
    if len(s) > MAX_SUMMARY_LENGTH:
        s = s[: MAX_SUMMARY_LENGTH - 4] + "...>"
    return s


def singleton_brief(kind: str, obj: Any) -> str:
    """The brief of the set of just ``obj``, whose Clodo kind is named ``kind``."""
    head = f"<1 {kind}: "
    return _close_brief(head, [_render_some([obj], MAX_SUMMARY_LENGTH - len(head))])


def _render_some(members: list[Any], max_length: int) -> str:
    return kind_names.join_within((kind_names.render(o) for o in members), max_length)
