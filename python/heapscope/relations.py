"""Relations whose classes are computed in Python rather than by a native classifier:
``findex(k0, ..., kn)`` (index of the first kind containing an object), ``x.biper`` (in
x or not), ``Idset`` (each object its own class) and ``Prod`` (allocation site from
tracemalloc). Each partitions a set into rows of ``(name, NodeSet, kind)`` with the same
interface as the native partitions, so printing, indexing and ``.kind`` work alike.
"""

from __future__ import annotations

import tracemalloc
from typing import TYPE_CHECKING, Any, Sequence

from .errors import TracemallocNotTracingError
from .kinds import Kind, UniSet, reprefix

if TYPE_CHECKING:
    from ._native import NodeSet
    from .identity_set import IdentitySet
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


class ComputedPartition:
    """Rows computed in Python, with the interface of the native ``Partition``."""

    def __init__(self, header: str, rows: list[tuple[str, NodeSet, UniSet]]) -> None:
        rows = [r for r in rows if r[1].count]
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


class ComputedRelation:
    """Base of the Python-computed relations."""

    header = ""

    def __init__(self, session: Session) -> None:
        self._session = session

    def partition(self, x: IdentitySet) -> Any:
        raise NotImplementedError

    def kinds_of_rows(self, part: Any) -> list[UniSet]:
        """The kind of each row of a partition this relation made."""
        return part.kinds()


class Findex(ComputedRelation):
    """``h.findex(k0, ..., kn)``: class i holds objects whose first containing kind is
    ki; objects in none of them form the class ``<None>``."""

    header = "First Matching Kind / Index"

    def __init__(self, session: Session, kinds: Sequence[UniSet]) -> None:
        super().__init__(session)
        self.kinds = list(kinds)

    def __repr__(self) -> str:
        return f"{reprefix(self._session)}findex({', '.join(repr(k) for k in self.kinds)})"

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
        return (repr(self),)


class Idset(ComputedRelation):
    """Each object its own class, named by the singleton set's brief."""

    header = "by identity set"

    def __repr__(self) -> str:
        return f"{reprefix(self._session)}Idset"

    def partition(self, x: IdentitySet) -> ComputedPartition:
        """Rows are the members as sets of x's own capture (no capture per member),
        named by their briefs."""
        from .identity_set import IdentitySet, singleton_brief

        rows: list[tuple[str, NodeSet, UniSet]] = []
        clodo = x._nodes.partition("Clodo")
        for (kind, _c, _s, _o), nodes in zip(clodo.rows(), clodo.row_sets()):
            for obj, single in zip(nodes.objects(), nodes.singletons()):
                rows.append((singleton_brief(kind, obj), single, IdentitySet(single, self._session)))
        return ComputedPartition(self.header, rows)


UNKNOWN = "unknown"


def _site(obj: object) -> str:
    tb = tracemalloc.get_object_traceback(obj)
    if tb is None or not len(tb):
        return UNKNOWN
    frame = tb[0]
    return f"{frame.filename}:{frame.lineno}"


def _require_tracing() -> None:
    if not tracemalloc.is_tracing():
        raise TracemallocNotTracingError(
            "Prod classifies by allocation site, which needs tracemalloc: call tracemalloc.start() "
            "before allocating the objects of interest (objects allocated earlier are 'unknown')"
        )


class Prod(ComputedRelation):
    """Allocation site (``file:line``) from tracemalloc; ``h.Prod(file, line)`` is a kind,
    ``h.Prod()`` the objects of unknown origin."""

    header = "Producer (line of allocation)"

    def __repr__(self) -> str:
        return f"{reprefix(self._session)}Prod"

    def __call__(self, filename: str | None = None, lineno: int | None = None) -> ProdKind:
        if filename is not None and ":" in filename and lineno is None:
            filename, _, line = filename.rpartition(":")
            lineno = int(line)
        return ProdKind(self._session, filename, lineno)

    def partition(self, x: IdentitySet) -> ComputedPartition:
        _require_tracing()
        groups: dict[str, list[object]] = {}
        for obj in x.nodes:
            groups.setdefault(_site(obj), []).append(obj)
        graph = x._nodes.graph
        rows = []
        for site, objs in groups.items():
            kind = ProdKind(self._session, None, None) if site == UNKNOWN else self(site)
            rows.append((site, graph.set_of(objs), kind))
        return ComputedPartition(self.header, rows)


class ProdKind(Kind):
    """Objects allocated at ``filename:lineno`` (None: allocated before tracing or untraced)."""

    __slots__ = ("filename", "lineno")

    def __init__(self, session: Session, filename: str | None, lineno: int | None) -> None:
        super().__init__(session)
        self.filename = filename
        self.lineno = lineno

    def _site(self) -> str:
        return UNKNOWN if self.filename is None else f"{self.filename}:{self.lineno}"

    def _select(self, nodes: NodeSet) -> NodeSet:
        _require_tracing()
        want = self._site()
        return nodes.graph.set_of([o for o in nodes.objects() if _site(o) == want]).intersection(nodes)

    def _contains(self, obj: object) -> bool:
        _require_tracing()
        return _site(obj) == self._site()

    @property
    def brief(self) -> str:
        return self._site()

    def _body(self) -> str:
        if self.filename is None:
            return "{p}Prod()"
        return f"{{p}}Prod({self.filename!r}, {self.lineno})"


class DictOwner(ComputedRelation):
    """``h.Type.dictof`` / ``h.Clodo.dictof``: dicts classed by their owner's type
    (``dict of C``, ``dict (no owner)``); everything that is not a dict is ``~dict``."""

    def __init__(self, session: Session, base: str, base_header: str) -> None:
        super().__init__(session)
        self.base = base
        self.header = f"Dict of {base_header}"

    def __repr__(self) -> str:
        return f"{reprefix(self._session)}{self.base}.dictof"

    def partition(self, x: IdentitySet) -> ComputedPartition:
        from .kinds import Complement, DictOfKind, TypeKind

        part = x._nodes.partition("Clodo")
        rows: list[tuple[str, NodeSet, UniSet]] = []
        not_dicts = x._nodes.difference(x._nodes)
        for i, (factor,) in enumerate(part.row_kinds()):
            tag, owner, _n = factor
            row = part.rows_set(i, i + 1)
            if tag == "dictof":
                kind = DictOfKind(self._session, owner)
                rows.append((kind.brief, row, kind))
            else:
                not_dicts = not_dicts.union(row)
        rows.append(("~dict", not_dicts, Complement(TypeKind(self._session, dict))))
        return ComputedPartition(self.header, rows)


class Referrers(ComputedRelation):
    """Heapy's Rcs (``h.Rcs``, ``h.Clodo.refdby``): each object is classed by the set of
    classes (under ``base``) of the objects that refer to it. Referrers come from a
    capture with edges (see ``IdentitySet.referrers``)."""

    def __init__(self, session: Session, base: str = "Clodo") -> None:
        super().__init__(session)
        self.base = base

    def __repr__(self) -> str:
        p = reprefix(self._session)
        return f"{p}Rcs" if self.base == "Clodo" else f"{p}{self.base}.refdby"

    def __call__(self, *kinds: UniSet) -> ReferredBy:
        """Objects whose referrers' classes are exactly ``kinds``."""
        return ReferredBy(self, kinds)

    def partition(self, x: IdentitySet) -> Any:
        return self._session._in_edge_graph(x._nodes).partition_by_referrers(self.base)

    def kinds_of_rows(self, part: Any) -> list[UniSet]:
        from .identity_set import IdentitySet

        probe = IdentitySet(part.rows_set(0, 1), self._session, self.base) if len(part) else None
        out: list[UniSet] = []
        for factors in part.row_kinds():
            assert probe is not None
            out.append(ReferredBy(self, [probe._row_kind(self.base, *f) for f in factors]))
        return out


class ReferredBy(Kind):
    """Objects referred to by objects of exactly these classes (``h.Rcs(k1, k2)``);
    ``.alt('<=')`` etc. compare the referrer classes as sets (``<=``: referred to only by
    some of these)."""

    __slots__ = ("relation", "kinds", "op")

    def __init__(self, relation: Referrers, kinds: Sequence[UniSet], op: str = "==") -> None:
        super().__init__(relation._session)
        self.relation = relation
        self.kinds = tuple(sorted(kinds, key=repr))
        self.op = op

    def alt(self, op: str) -> ReferredBy:
        from .kinds import _alt_check

        _alt_check(op)
        return ReferredBy(self.relation, self.kinds, op)

    def _specs(self) -> list[tuple[str, Any, int | None]]:
        """The kinds as the native selection takes them: ``(tag, object, number)`` for
        classes of the base relation; anything else is a class no object has."""
        from .kinds import AnythingKind, ClassKind, DictOfKind, ModuleKind, SizeKind, TypeKind

        base = self.relation.base
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
        edge_nodes = self._session._in_edge_graph(nodes)
        chosen = edge_nodes.select_referred_by(self.relation.base, self._specs(), self.op)
        return nodes.graph.translate(chosen)[0].intersection(nodes)

    def _contains(self, obj: object) -> bool:
        return self._select(self._session.iso(obj)._nodes).count == 1

    @property
    def brief(self) -> str:
        names = sorted(getattr(k, "brief", "?") for k in self.kinds)
        inner = f"referred by: {', '.join(names) if names else '<Nothing>'}"
        return f"<{inner}>" if self.op == "==" else f"[{self.op} <{inner}>]"

    def __repr__(self) -> str:
        base = f"{self.relation!r}({', '.join(repr(k) for k in self.kinds)})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"

    def _key(self) -> tuple[Any, ...]:
        return (self.relation.base, frozenset(self.kinds), self.op)


class SetOfKinds:
    """``ER.sokind(*kinds)``: a set of kinds; ``.refdby`` is the kind of the objects
    referred to by objects of exactly those kinds."""

    __slots__ = ("relation", "kinds")

    def __init__(self, relation: Referrers, kinds: Sequence[UniSet]) -> None:
        self.relation = relation
        self.kinds = tuple(kinds)

    @property
    def refdby(self) -> ReferredBy:
        return ReferredBy(self.relation, self.kinds)

    def __repr__(self) -> str:
        base = self.relation.base
        return f"{reprefix(self.relation._session)}{base}.sokind({', '.join(repr(k) for k in self.kinds)})"


class Via(ComputedRelation):
    """Heapy's Via (``h.Via``, ``x.byvia``): each object is classed by the labels of the
    references that hold it (``'.__dict__'``, ``"['name']"``, ``'[3]'``, root edges as
    ``'.i0_modules'``). Labels are computed once per capture with edges."""

    header = "Referred Via:"

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

    def alt(self, op: str) -> ViaKind:
        from .kinds import _alt_check

        _alt_check(op)
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
        inner = f"via {self._args() or '<Nothing>'}"
        return f"<{inner}>" if self.op == "==" else f"[{self.op} <{inner}>]"

    def _body(self) -> str:
        base = f"{{p}}Via({self._args()})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"

    def _key(self) -> tuple[Any, ...]:
        return (tuple(sorted(self.labels)), self.op)
