"""Relations whose classes are computed in Python over native selections and groupings:
``findex(k0, ..., kn)`` (index of the first kind containing an object; ``k.biper`` is
``findex(k)``), ``Idset`` (each object its own class), ``Prod`` (allocation site from
tracemalloc) and the relations derived from any relation R: ``R.dictof`` (dicts by the
class of their owner), ``R.refdby`` (objects by the classes of their referrers; Rcs is
``h.Clodo.refdby``) and products ``R1 & R2`` that the native classifiers cannot make.
Each partitions a set into rows of ``(name, NodeSet, kind)`` with the same interface as
the native partitions, so printing, indexing and ``.kind`` work alike. The graph work
(referrers, owners, tuples of classes) is done natively on classes computed here.
"""

from __future__ import annotations

import inspect
import tracemalloc
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

from . import _native
from .errors import TracemallocNotTracingError
from .hidden import hidden_type
from .identity_set import IdentitySet, singleton_brief
from .kinds import (
    AnythingKind,
    ClassKind,
    Complement,
    ComputedRelation,
    DictOfKind,
    EquivalenceRelation,
    Intersection,
    Kind,
    ModuleKind,
    Relation,
    SizeKind,
    TypeKind,
    Union,
    UniSet,
    alt_brief,
    kind_key,
    reprefix,
)

if TYPE_CHECKING:
    from ._native import NodeSet
    from .session import Session


def compare_sets(have: frozenset[str], want: frozenset[str], op: str) -> bool:
    """``have <op> want`` for the set-valued kinds' ``.alt(op)`` (Rcs, Via)."""
    return {
        "==": have == want,
        "!=": have != want,
        "<": have < want,
        "<=": have <= want,
        ">": have > want,
        ">=": have >= want,
    }[op]


@hidden_type
class ComputedPartition:
    """Rows computed in Python, with the interface of the native ``Partition``."""

    def __init__(self, header: str, given: Sequence[tuple[str, NodeSet, UniSet]]) -> None:
        rows = [r for r in given if r[1].count]
        rows.sort(key=lambda r: (-r[1].size, r[0]))
        self.header = header
        self._rows = rows
        self.count = sum(r[1].count for r in rows)
        self.size = sum(r[1].size for r in rows)

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, start: int = 0, stop: int | None = None) -> list[tuple[str, int, int, None]]:
        return [(name, s.count, s.size, None) for name, s, _ in self._rows[start:stop]]

    def rows_set(self, start: int, stop: int) -> NodeSet:
        if start >= len(self._rows):
            raise IndexError(f"row {start} out of range for a partition of {len(self._rows)} rows")
        out = self._rows[start][1]
        for _, s, _ in self._rows[start + 1 : stop]:
            out = out.union(s)
        return out

    def row_sets(self, start: int = 0, stop: int | None = None) -> list[NodeSet]:
        return [s for _, s, _ in self._rows[start:stop]]

    def kinds(self) -> list[UniSet]:
        return [k for _, _, k in self._rows]


class Classes(NamedTuple):
    """A relation's classes of a set, for the relations derived from it: the relation's
    table header, each class's name and kind, and the classes as the native groupings
    take them (the native partition itself, or one set per class)."""

    header: str
    names: list[str]
    kinds: list[UniSet]
    sets: Any


def class_rows(session: Session, nodes: NodeSet, relation: Relation) -> Classes:
    """The classes of ``nodes`` under any relation. Heapy names Id classes ``<id 0x...>``
    (its table header ``Object Identity``) where they are parts of a derived relation's
    rows."""
    x = IdentitySet(nodes, session, relation)
    part = x._partition()
    is_id = isinstance(relation, EquivalenceRelation) and relation.name == "Id"
    names = [f"<id {id(obj):#x}>" if is_id else name for name, _count, _size, obj in part.rows()]
    if isinstance(part, _native.Partition) and len(part) and part.rows_set(0, 1).same_heap(nodes):
        sets: Any = part  # a native partition of this graph: classed natively, no set per row
    else:
        sets = []
        for i in range(len(part)):
            members = part.rows_set(i, i + 1)
            if not members.same_heap(nodes):
                members = nodes.graph.set_of_addresses(members.addresses()).intersection(nodes)
            sets.append(members)
    return Classes("Object Identity" if is_id else part.header, names, x._row_kinds(), sets)


class Findex(ComputedRelation):
    """``h.findex(k0, ..., kn)``: class i holds objects whose first containing kind is
    ki; objects in none of them form the class ``<None>``."""

    header = "First Matching Kind / Index"

    __slots__ = ("kinds",)

    def __init__(self, session: Session, kinds: Sequence[UniSet]) -> None:
        super().__init__(session)
        self.kinds = tuple(kinds)

    def __repr__(self) -> str:
        return f"{reprefix(self._session)}findex({', '.join(repr(k) for k in self.kinds)})"

    def _key(self) -> tuple[Any, ...]:
        # as in Heapy, each findex (biper) made is a relation of its own
        return ("findex", id(self))

    @property
    def classifier(self) -> Findex:
        """Heapy's name for the relation behind a kind (``p[i].kind.fam.classifier.kinds``)."""
        return self

    def __call__(self, index: int) -> FindexKind:
        if not 0 <= index <= len(self.kinds):
            raise IndexError(f"findex has classes 0..{len(self.kinds)}")
        return FindexKind(self, index)

    def select(self, nodes: NodeSet, index: int) -> NodeSet:
        remaining = nodes
        for k in self.kinds[:index]:
            remaining = remaining.difference(k._select(remaining))
        if index == len(self.kinds):
            return remaining
        return self.kinds[index]._select(remaining)

    def partition(self, x: IdentitySet) -> ComputedPartition:
        rows = []
        remaining = x._nodes
        for i, k in enumerate(self.kinds):
            sel = k._select(remaining)
            remaining = remaining.difference(sel)
            rows.append((_findex_name(k, i), sel, FindexKind(self, i)))
        rows.append(("<None>", remaining, FindexKind(self, len(self.kinds))))
        return ComputedPartition(self.header, rows)


def _findex_name(k: UniSet, i: int) -> str:
    return f"{getattr(k, 'brief', '<set>')} / {i}"


class FindexKind(Kind):
    """Class ``index`` of a findex relation."""

    __slots__ = ("relation", "index")

    def __init__(self, relation: Findex, index: int) -> None:
        super().__init__(relation._session)
        self.relation = relation
        self.index = index

    def _select(self, nodes: NodeSet) -> NodeSet:
        return self.relation.select(nodes, self.index)

    def _contains(self, obj: object) -> bool:
        for i, k in enumerate(self.relation.kinds):
            if obj in k:
                return i == self.index
        return self.index == len(self.relation.kinds)

    @property
    def brief(self) -> str:
        kinds = self.relation.kinds
        return "<None>" if self.index == len(kinds) else _findex_name(kinds[self.index], self.index)

    def __repr__(self) -> str:
        return f"{self.relation!r}({self.index})"

    def _key(self) -> tuple[Any, ...]:
        return (self.relation._key(), self.index)

    @property
    def fam(self) -> Findex:
        """Heapy's name for the family of this kind: its findex relation
        (``p[i].kind.fam.classifier.kinds[0]`` is the kind ``k`` of ``x.by(k.biper)``)."""
        return self.relation


class Idset(ComputedRelation):
    """Each object its own class, named by the singleton set's brief."""

    header = "by identity set"
    __slots__ = ()

    def __repr__(self) -> str:
        return f"{reprefix(self._session)}Idset"

    def partition(self, x: IdentitySet) -> ComputedPartition:
        """Rows are the members as sets of x's own capture (no capture per member),
        named by their briefs."""
        rows: list[tuple[str, NodeSet, UniSet]] = []
        clodo = x._nodes.partition("Clodo")
        for (kind, _c, _s, _o), nodes in zip(clodo.rows(), clodo.row_sets()):
            for obj, single in zip(nodes.objects(), nodes.singletons()):
                rows.append((singleton_brief(kind, obj), single, IdentitySet(single, self._session)))
        return ComputedPartition(self.header, rows)


UNKNOWN = "unknown"

def _site(obj: object) -> tuple[str, int] | None:
    """Where tracemalloc saw ``obj`` allocated: the most recent frame, as guppy3 takes
    it (``tracemalloc.start(n)`` keeps n frames, oldest first), or None."""
    if type(obj) is _native.NodeProxy:
        return obj.site  # recorded by the dump
    tb = tracemalloc.get_object_traceback(obj)
    if tb is None or not len(tb):
        return None
    frame = tb[-1]
    return (frame.filename, frame.lineno)


def _site_name(site: tuple[str | None, int | None] | None) -> str:
    if site is None:
        return UNKNOWN
    filename, lineno = site
    return f"{'*' if filename is None else filename}:{'*' if lineno is None else lineno}"


def _site_le(a: tuple[str | None, int | None] | None, b: tuple[str | None, int | None] | None) -> bool:
    """Heapy's order of allocation sites: ``a <= b`` when a's file name starts with b's
    and a's line is at most b's (a None part of either matches anything); the unknown
    site is comparable only with itself."""
    if a is None or b is None:
        return a is None and b is None
    (file_a, line_a), (file_b, line_b) = a, b
    if file_a is not None and file_b is not None and not file_a.startswith(file_b):
        return False
    return line_a is None or line_b is None or line_a <= line_b


def _require_tracing(graph: Any = None) -> None:
    """Prod needs allocation sites: tracemalloc tracing now, or, for a snapshot's
    ``graph``, sites the dump recorded."""
    if graph is not None and not graph.live:
        if not graph.has_sites():
            raise TracemallocNotTracingError(
                "this snapshot recorded no allocation sites: tracemalloc was not tracing when it was dumped"
            )
        return
    if not tracemalloc.is_tracing():
        raise TracemallocNotTracingError(
            "Prod classifies by allocation site, which needs tracemalloc: call tracemalloc.start() "
            "before allocating the objects of interest (objects allocated earlier are 'unknown')"
        )


class Prod(ComputedRelation):
    """Allocation site (``file:line``, the most recent frame tracemalloc kept) as guppy3
    takes it. Kinds: ``h.Prod(file, line)``, ``h.Prod()`` (objects of unknown origin),
    ``h.Prod('dir/or/file')`` (allocated in files whose name starts so),
    ``h.Prod(function_or_class)`` (allocated in its source lines),
    ``h.Prod(filename=..., lineno=...)``; ``.alt(op)`` compares sites that way."""

    header = "Producer (line of allocation)"
    __slots__ = ()

    def __repr__(self) -> str:
        return f"{reprefix(self._session)}Prod"

    def __call__(self, *args: Any, **kwargs: Any) -> UniSet:
        s = self._session
        if args and kwargs:
            raise TypeError(f"{self!r}() takes either positional or keyword arguments")
        if kwargs:
            if set(kwargs) != {"filename", "lineno"}:
                raise TypeError(f'{self!r}() keyword arguments must be "filename" and "lineno"')
            return self(kwargs["filename"], kwargs["lineno"])
        if not args:
            return ProdKind(s, None)
        if len(args) == 1:
            (arg,) = args
            if isinstance(arg, str):
                return ProdKind(s, (arg, None), "<")
            filename = inspect.getsourcefile(arg)
            lines, first = inspect.getsourcelines(arg)
            first = max(first, 1)
            return Intersection(
                ProdKind(s, (None, first), ">="),
                ProdKind(s, (filename, None), "<"),
                ProdKind(s, (None, first + len(lines)), "<"),
            )
        if len(args) == 2:
            filename, lineno = args
            if filename is not None and not isinstance(filename, str):
                raise TypeError(f"{self!r}() argument 1 must be string or None")
            if lineno is not None and (not isinstance(lineno, int) or isinstance(lineno, bool)):
                raise TypeError(f"{self!r}() argument 2 must be integer or None")
            return ProdKind(s, (filename, lineno))
        raise TypeError(f"{self!r}() takes from 0 to 2 positional arguments but {len(args)} were given")

    def partition(self, x: IdentitySet) -> ComputedPartition:
        _require_tracing(x._nodes.graph)
        groups: dict[tuple[str, int] | None, list[object]] = {}
        for obj in x.nodes:
            groups.setdefault(_site(obj), []).append(obj)
        graph = x._nodes.graph
        rows = [
            (_site_name(site), graph.set_of(objs), ProdKind(self._session, site)) for site, objs in groups.items()
        ]
        return ComputedPartition(self.header, rows)


class ProdKind(Kind):
    """Objects allocated at ``site`` (``(file, line)``; None: unknown origin), or at sites
    ``op`` it (``<``: within, as a file name prefix and an earlier line)."""

    __slots__ = ("site", "op")

    def __init__(self, session: Session, site: tuple[str | None, int | None] | None, op: str = "==") -> None:
        super().__init__(session)
        self.site = site
        self.op = op

    def _alt(self, op: str) -> ProdKind:
        return ProdKind(self._session, self.site, op)

    def _matches(self, site: tuple[str, int] | None) -> bool:
        me = self.site
        return {
            "==": site == me,
            "!=": site != me,
            "<": site != me and _site_le(site, me),
            "<=": _site_le(site, me),
            ">": site != me and _site_le(me, site),
            ">=": _site_le(me, site),
        }[self.op]

    def _select(self, nodes: NodeSet) -> NodeSet:
        _require_tracing(nodes.graph)
        return nodes.graph.set_of([o for o in nodes.objects() if self._matches(_site(o))]).intersection(nodes)

    def _contains(self, obj: object) -> bool:
        if type(obj) is not _native.NodeProxy:
            _require_tracing()
        return self._matches(_site(obj))

    @property
    def brief(self) -> str:
        return alt_brief(self.op, _site_name(self.site))

    def _body(self) -> str:
        base = "{p}Prod()" if self.site is None else f"{{p}}Prod({self.site[0]!r}, {self.site[1]!r})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"


class OwnedDictKind(Kind):
    """``k.dictof``: the dicts that are the ``__dict__`` of an object in ``k`` (any kind
    or set). Owners are found among the referrers in a capture with edges (by the
    object's dict pointer: nothing is materialised)."""

    __slots__ = ("of",)

    def __init__(self, of: UniSet) -> None:
        super().__init__(of._session_of())
        self.of = of

    def _select(self, nodes: NodeSet) -> NodeSet:
        owned = nodes.select_kind("type", "==", dict).difference(nodes.select_kind("dictof", "==", None))
        if isinstance(self.of, AnythingKind) or not owned.count:
            return owned
        edges = self._session._in_edge_graph(owned)
        (chosen,) = edges.group_dicts_by_owner_class([self.of._select(edges.dict_owners())])
        return nodes.graph.set_of_addresses(chosen.addresses()).intersection(nodes)

    def _contains(self, obj: object) -> bool:
        return type(obj) is dict and self._select(self._session.iso(obj)._nodes).count == 1

    @property
    def brief(self) -> str:
        return f"dict of {getattr(self.of, 'brief', '<set>')}"

    def __repr__(self) -> str:
        return f"{self.of!r}.dictof"

    def _key(self) -> tuple[Any, ...]:
        return (kind_key(self.of),)


class OwnedDictRelation(ComputedRelation):
    """``R.dictof``: dicts classed by the R class of the object owning them (``dict of
    C``, ``dict of        72`` for ``h.Size.dictof``); ``~dict`` for what is not a dict,
    ``dict (no owner)`` for dicts no object owns. By Type and Clodo the owner's type is
    known from the capture; otherwise owners are found in a capture with edges."""

    __slots__ = ("base",)

    def __init__(self, session: Session, base: Relation) -> None:
        super().__init__(session)
        self.base = base

    def __repr__(self) -> str:
        return f"{self.base!r}.dictof"

    def _key(self) -> tuple[Any, ...]:
        return ("dictof", self.base._key())

    def __call__(self, *args: Any, **kwargs: Any) -> UniSet:
        """``h.Size.dictof(56)`` is ``h.Size(56).dictof``."""
        if not callable(self.base):
            raise TypeError(f"{self.base!r} makes no kinds")
        kind: UniSet = self.base(*args, **kwargs)
        return kind.dictof

    def partition(self, x: IdentitySet) -> ComputedPartition:
        s = self._session
        nodes = x._nodes
        dicts = nodes.select_kind("type", "==", dict)
        unowned = nodes.select_kind("dictof", "==", None)
        owned = dicts.difference(unowned)
        kind: UniSet
        rows: list[tuple[str, NodeSet, UniSet]] = [
            ("~dict", nodes.difference(dicts), Complement(TypeKind(s, dict))),
            ("dict (no owner)", unowned, DictOfKind(s, None)),
        ]
        if isinstance(self.base, EquivalenceRelation) and self.base.name in ("Type", "Clodo"):
            # the owner's type is known without finding the owner
            header = "Type" if self.base.name == "Type" else "Kind (class / dict of class)"
            part = owned.partition("Clodo")
            for i, ((_tag, owner, _n),) in enumerate(part.row_kinds()):
                kind = DictOfKind(s, owner)
                rows.append((kind.brief, part.rows_set(i, i + 1), kind))
            return ComputedPartition(f"Dict of {header}", rows)
        edges = s._in_edge_graph(owned)
        owners = class_rows(s, edges.dict_owners(), self.base)
        groups = edges.group_dicts_by_owner_class(owners.sets)
        found = nodes.difference(nodes)
        kinds: list[UniSet] = []
        for name, owner_kind, dicts_of in zip(owners.names, owners.kinds, groups):
            row = nodes.graph.set_of_addresses(dicts_of.addresses()).intersection(nodes)
            found = found.union(row)
            rows.append((f"dict of {name}", row, OwnedDictKind(owner_kind)))
            kinds.append(OwnedDictKind(owner_kind))
        lost = owned.difference(found)
        if lost.count:
            # owners the capture from the roots does not reach (held only from C)
            anyowned = OwnedDictKind(AnythingKind(s))
            kind = Intersection(anyowned, Complement(Union(*kinds))) if kinds else anyowned
            rows.append(("dict of <owner not reachable>", lost, kind))
        return ComputedPartition(f"Dict of {owners.header}", rows)


class Referrers(ComputedRelation):
    """``R.refdby`` (Heapy's Rcs is ``h.Clodo.refdby``): each object is classed by the set
    of R classes of the objects that refer to it. Referrers come from a capture with edges
    (see ``IdentitySet.referrers``); by Clodo, Type, Size, Module and Unity the classing
    is native, by any other relation its classes are computed and grouped natively."""

    __slots__ = ("base",)

    def __init__(self, session: Session, base: Relation) -> None:
        super().__init__(session)
        self.base = base

    @property
    def _native_base(self) -> str | None:
        """The name of a base the native Rcs partition classes by, else None."""
        b = self.base
        if isinstance(b, EquivalenceRelation) and "&" not in b.name and b.name != "Id":
            return b.name
        return None

    def __repr__(self) -> str:
        return f"{self.base!r}.refdby"  # Heapy's name, h.Rcs included

    def _key(self) -> tuple[Any, ...]:
        return ("refdby", self.base._key())

    def __call__(self, *kinds: UniSet) -> ReferredBy:
        """Objects whose referrers' classes are exactly ``kinds``."""
        return ReferredBy(self, kinds)

    def partition(self, x: IdentitySet) -> Any:
        s = self._session
        edges = s._in_edge_graph(x._nodes)
        native = self._native_base
        if native is not None:
            return edges.partition_by_referrers(native)
        refs = class_rows(s, edges.referrers(), self.base)
        rows = []
        for key, members in edges.group_by_referrer_classes(refs.sets):
            name = ", ".join(sorted(refs.names[i] for i in key)) or "<Nothing>"
            rows.append((name, members, ReferredBy(self, [refs.kinds[i] for i in key])))
        return ComputedPartition(f"Referrers by {refs.header}", rows)

    def kinds_of_rows(self, part: Any) -> list[UniSet]:
        if isinstance(part, ComputedPartition):
            return part.kinds()
        native = self._native_base
        assert native is not None
        probe = IdentitySet(part.rows_set(0, 1), self._session, native) if len(part) else None
        out: list[UniSet] = []
        for factors in part.row_kinds():
            assert probe is not None
            out.append(ReferredBy(self, [probe._row_kind(native, *f) for f in factors]))
        return out


#: How Heapy words a referrer kind's ``.alt(op)`` in briefs.
REFERRED_ALT_WORDS = {
    "<": "referred by less than",
    "<=": "referred by at most",
    ">": "referred by more than",
    ">=": "referred by at least",
}


class ReferredBy(Kind):
    """Objects referred to by objects of exactly these classes (``h.Rcs(k1, k2)``);
    ``.alt('<=')`` etc. compare the referrer classes as sets (``<=``: referred to only by
    some of these)."""

    __slots__ = ("relation", "kinds", "op")

    def __init__(self, relation: Referrers, kinds: Sequence[UniSet], op: str = "==") -> None:
        super().__init__(relation._session)
        self.relation = relation
        self.kinds = tuple(sorted(kinds, key=lambda k: str(kind_key(k))))
        self.op = op

    def _alt(self, op: str) -> ReferredBy:
        return ReferredBy(self.relation, self.kinds, op)

    def _specs(self) -> list[tuple[str, Any, int | None]]:
        """The kinds as the native selection takes them: ``(tag, object, number)`` for
        classes of the base relation; anything else is a class no object has."""
        base = self.relation._native_base
        out: list[tuple[str, Any, int | None]] = []
        for k in self.kinds:
            exact = getattr(k, "op", "==") == "=="
            if base == "Clodo" and type(k) is ClassKind and exact:
                out.append(("type", k.type, None))
            elif base == "Clodo" and type(k) is DictOfKind and exact:
                out.append(("dictof", k.owner, None))
            elif base == "Type" and type(k) is TypeKind and exact:
                out.append(("type", k.type, None))
            elif base == "Size" and type(k) is SizeKind and exact:
                out.append(("size", None, k.size))
            elif base == "Module" and type(k) is ModuleKind:
                out.append(("module", k.name, None))
            elif base == "Unity" and type(k) is AnythingKind:
                out.append(("unity", None, None))
            else:
                out.append(("unknown", None, None))
        return out

    def _select(self, nodes: NodeSet) -> NodeSet:
        base = self.relation._native_base
        if base is None:
            return self._select_computed(nodes)
        edge_nodes = self._session._in_edge_graph(nodes)
        chosen = edge_nodes.select_referred_by(base, self._specs(), self.op)
        return nodes.graph.translate(chosen)[0].intersection(nodes)

    def _matches(self, have: frozenset[Any]) -> bool:
        return compare_sets(have, self._names(), self.op)

    def _names(self) -> frozenset[Any]:
        return frozenset(kind_key(k) for k in self.kinds)

    def _select_computed(self, nodes: NodeSet) -> NodeSet:
        """By a relation the core cannot class by: its rows' kinds compared as sets."""
        part = self.relation.partition(IdentitySet(nodes, self._session))
        chosen = None
        for i, kind in enumerate(self.relation.kinds_of_rows(part)):
            if isinstance(kind, ReferredBy) and self._matches(kind._names()):
                row = part.rows_set(i, i + 1)
                chosen = row if chosen is None else chosen.union(row)
        if chosen is None:
            return nodes.difference(nodes)
        return nodes.graph.set_of_addresses(chosen.addresses()).intersection(nodes)

    def _contains(self, obj: object) -> bool:
        return self._select(self._session.iso(obj)._nodes).count == 1

    @property
    def brief(self) -> str:
        names = sorted(getattr(k, "brief", "?") for k in self.kinds)
        words = REFERRED_ALT_WORDS.get(self.op, "referred by")
        inner = f"<{words}: {', '.join(names) if names else '<Nothing>'}>"
        return f"~{inner}" if self.op == "!=" else inner

    def __repr__(self) -> str:
        base = f"{self.relation!r}({', '.join(repr(k) for k in self.kinds)})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"

    def _key(self) -> tuple[Any, ...]:
        return (self.relation._key(), tuple(sorted(map(str, self._names()))), self.op)


@hidden_type
class SetOfKinds:
    """``R.sokind(*kinds)``: a set of kinds; ``.refdby`` is the kind of the objects
    referred to by objects of exactly those kinds."""

    __slots__ = ("relation", "kinds")

    def __init__(self, relation: Referrers, kinds: Sequence[UniSet]) -> None:
        self.relation = relation
        self.kinds = tuple(kinds)

    @property
    def refdby(self) -> ReferredBy:
        return ReferredBy(self.relation, self.kinds)

    def __repr__(self) -> str:
        return f"{self.relation.base!r}.sokind({', '.join(repr(k) for k in self.kinds)})"


class ProductRelation(ComputedRelation):
    """``R1 & R2 & ...`` of relations the native classifiers cannot combine (``h.Id``,
    ``h.Via``, ``R.dictof``, ...): classes are tuples of the factors' classes, named
    ``a & b`` under the header ``A & B``."""

    __slots__ = ("factors",)

    def __init__(self, session: Session, factors: Sequence[Relation]) -> None:
        super().__init__(session)
        self.factors = tuple(factors)

    def __repr__(self) -> str:
        return "(" + " & ".join(repr(f) for f in self.factors) + ")"

    def _key(self) -> tuple[Any, ...]:
        return ("product", tuple(f._key() for f in self.factors))

    def _factors(self) -> list[Relation]:
        return list(self.factors)

    def _supers(self) -> list[Relation]:
        return [self, *(r for f in self.factors for r in f._supers())]

    def partition(self, x: IdentitySet) -> ComputedPartition:
        each = [class_rows(self._session, x._nodes, f) for f in self.factors]
        rows = []
        for key, members in x._nodes.group_by_class_tuples([c.sets for c in each]):
            name = " & ".join(c.names[i].strip() for c, i in zip(each, key))
            rows.append((name, members, Intersection(*(c.kinds[i] for c, i in zip(each, key)))))
        return ComputedPartition(" & ".join(c.header for c in each), rows)


class Via(ComputedRelation):
    """Heapy's Via (``h.Via``, ``x.byvia``): each object is classed by the labels of the
    references that hold it (``'.__dict__'``, ``"['name']"``, ``'[3]'``, root edges as
    ``'.i0_modules'``). Labels are computed once per capture with edges."""

    header = "Referred Via:"
    __slots__ = ()

    def __repr__(self) -> str:
        return f"{reprefix(self._session)}Via"

    def __call__(self, *labels: str) -> ViaKind:
        """Objects held by references of exactly these labels: ``h.Via('.x', "['k']")``."""
        return ViaKind(self, labels)

    def partition(self, x: IdentitySet) -> Any:
        return self._session._in_edge_graph(x._nodes).partition_by_via()

    def kinds_of_rows(self, part: Any) -> list[UniSet]:
        return [ViaKind(self, labels) for labels in part.via_labels() or []]


def _label_text(label: str) -> str:
    """A label as the user may write it (``'_.x'``, ``'.x'``, ``"['k']"``) in our canonical
    form: the referrer left out, as Heapy's Via rows print it."""
    if not isinstance(label, str):
        raise TypeError(f"a Via label is a string such as '.x' or \"['key']\", not {label!r}")
    label = label.strip()
    if label.startswith("_") and not label.startswith("list(_)"):
        label = label[1:]
    return label


class ViaKind(Kind):
    """Objects held by references of exactly these labels (``h.Via('.x')``);
    ``.alt('<=')`` etc. compare label sets (``>=``: held at least by these)."""

    __slots__ = ("relation", "labels", "op")

    def __init__(self, relation: Via, labels: Sequence[str], op: str = "==") -> None:
        super().__init__(relation._session)
        self.relation = relation
        self.labels = frozenset(_label_text(label) for label in labels)
        self.op = op

    def _alt(self, op: str) -> ViaKind:
        return ViaKind(self.relation, sorted(self.labels), op)

    def _matches(self, have: frozenset[str]) -> bool:
        return compare_sets(have, self.labels, self.op)

    def _select(self, nodes: NodeSet) -> NodeSet:
        edge_nodes = self._session._in_edge_graph(nodes)
        chosen = edge_nodes.select_via(sorted(self.labels), self.op)
        return nodes.graph.translate(chosen)[0].intersection(nodes)

    def _contains(self, obj: object) -> bool:
        # `obj in kind` passes obj on the caller's value stack: that in-flight reference
        # is the question's, not the heap's, so it does not count.
        import threading

        nodes = self._session._in_edge_graph(self._session.iso(obj)._nodes)
        rows = nodes.partition_by_via().via_labels() or [[]]
        own = f".i0_t{threading.get_ident()}_"
        labels = frozenset(
            label for label in rows[0] if not (label.startswith(own) and "->f_valuestack[" in label)
        )
        return self._matches(labels)

    def _args(self) -> str:
        return ", ".join(sorted(repr(label) for label in self.labels))

    @property
    def brief(self) -> str:
        return alt_brief(self.op, f"<via {self._args() or '<Nothing>'}>")

    def _body(self) -> str:
        base = f"{{p}}Via({self._args()})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"

    def _key(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.labels)), self.op)
