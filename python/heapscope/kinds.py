"""Kinds: symbolic sets, and the equivalence relations that make them.

A kind can test membership but cannot list its members. Kinds are made by calling an
equivalence relation of the session (``h.Type(dict)``, ``h.Clodo(dictof=C)``,
``h.Size(56)``, ``h.Module('sys')``) or are the constants ``h.Anything``/``h.Nothing``.
Kinds and IdentitySets share one algebra: ``&``/``-`` of a set and a kind select members
(in Rust, over the set's graph), while ``|``, ``^`` and ``~`` with a kind stay symbolic.

Every kind's repr can be evaluated back where the session's name is bound (the prefix
is the name the session has in ``__main__``, else ``hpy()``) and the types it mentions
are importable by the names shown (builtins bare, ``__main__`` classes by their
qualified name, others as ``module.qualname``).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from . import _native, kind_names
from .hidden import hidden_type

if TYPE_CHECKING:  # types only: relations.py builds on this module, the session makes them
    from ._native import NodeSet
    from .identity_set import IdentitySet
    from .relations import Findex, OwnedDictRelation, Referrers, SetOfKinds
    from .session import Session

ALT_OPS = ("<", "<=", ">=", ">", "==", "!=")


def reprefix(session: Session) -> str:
    """The prefix of the session's reprs (``Session.reprefix``: set by the user, else
    ``name.`` for the name the session has in ``__main__``, else ``hpy().``)."""
    return session.reprefix


def type_expr(t: type) -> str:
    """A Python expression naming ``t`` (see the module doc); a snapshot's type is named
    by its kind name as a string (``snap.Type('pkg.mod.Class')``)."""
    if type(t) is _native.TypeRef:
        return repr(t.name)
    module = getattr(t, "__module__", None)
    qualname = getattr(t, "__qualname__", t.__name__)
    if module == "builtins":
        return qualname
    if module == "__main__":
        return qualname
    return f"{module}.{qualname}"


def type_identity(t: Any) -> Any:
    """What makes two kinds' types the same type: the type object (by identity), or a
    snapshot type's graph and address."""
    if type(t) is _native.TypeRef:
        return ("snapshot type", t.graph_id, t.address)
    return id(t)


@hidden_type
class UniSet:
    """Common algebra of kinds and IdentitySets (see the module doc)."""

    __slots__ = ()

    def _select(self, nodes: NodeSet) -> NodeSet:
        """The members of ``nodes`` that are in this set."""
        raise NotImplementedError

    def _contains(self, obj: object) -> bool:
        raise NotImplementedError

    def _session_of(self) -> Session:
        raise NotImplementedError

    def __contains__(self, obj: object) -> bool:
        if type(obj) is _native.NodeProxy:
            # an object of a snapshot: selected from its graph
            return bool(self._select(obj.as_set()).count)
        return self._contains(obj)

    def __or__(self, other: UniSet) -> UniSet:
        return Union(self, _check(other))

    def __ror__(self, other: UniSet) -> UniSet:
        return Union(_check(other), self)

    def __and__(self, other: UniSet) -> UniSet:
        if getattr(other, "_is_concrete_set", False):
            return NotImplemented  # the set selects: set.__rand__
        return Intersection(self, _check(other))

    def __sub__(self, other: UniSet) -> UniSet:
        return Intersection(self, Complement(_check(other)))

    def __xor__(self, other: UniSet) -> UniSet:
        return SymmetricDifference(self, _check(other))

    def __invert__(self) -> UniSet:
        return Complement(self)

    def disjoint(self, other: UniSet) -> bool:
        raise TypeError("disjointness of two symbolic kinds cannot be decided; intersect with a set")

    @property
    def dictof(self) -> Kind:
        """The dicts that are the ``__dict__`` of an object in this kind or set
        (``h.Size(56).dictof``, ``h.iso(obj).dictof``)."""
        return self._session_of()._owned_dicts(self)

    @property
    def biper(self) -> Findex:
        """The bipartition relation of this kind or set: class 0 holds its members, class
        1 everything else (``x.by(k.biper)``; Heapy's ``findex(k)``)."""
        return self._session_of().findex(self)


def _check(other: object) -> UniSet:
    if not isinstance(other, UniSet):
        raise TypeError(f"expected a heapscope set or kind, got {type(other).__name__}")
    return other


def kind_key(k: UniSet) -> tuple[Any, ...]:
    """What identifies a kind or set (kinds by what they say, sets by their members):
    independent of the repr prefix, and exact for sets whose tables print alike."""
    if isinstance(k, Kind):
        return (type(k).__name__, k._key())
    return ("set", tuple(getattr(k, "_nodes").addresses()))


class Kind(UniSet):
    """A symbolic set of objects."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def _session_of(self) -> Session:
        return self._session

    @property
    def brief(self) -> str:
        raise NotImplementedError

    def _body(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self._body().replace("{p}", reprefix(self._session))

    def __str__(self) -> str:
        return self.brief

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Kind) and type(other) is type(self) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def _key(self) -> tuple[Any, ...]:
        return (self._body(),)

    def __le__(self, other: UniSet) -> bool:
        if isinstance(other, AnythingKind) or isinstance(self, NothingKind) or self == other:
            return True
        raise TypeError("the subset relation of these symbolic kinds cannot be decided")

    def alt(self, op: str) -> UniSet:
        """The kind of the objects whose class compares so with this kind's (``<``,
        ``<=``, ``>=``, ``>``; what the order is depends on the relation). As in Heapy,
        ``alt('==')`` is the kind itself and ``alt('!=')`` its complement."""
        _alt_check(op)
        if op == "==":
            return self
        if op == "!=":
            return Complement(self)
        return self._alt(op)

    def _alt(self, op: str) -> Kind:
        raise TypeError(f"{type(self).__name__} has no .alt()")


def _mro(t: type) -> tuple[type, ...]:
    """``t.__mro__`` as type's own getter reads it (no metaclass attribute runs)."""
    mro = type.__dict__["__mro__"].__get__(t)
    return mro if isinstance(mro, tuple) else (t,)


def type_compares(t: type, me: type, op: str) -> bool:
    """``t <op> me`` by subclassing over the MRO, as Heapy compares types and as the
    native selections do (no ``__subclasscheck__``, so no ABC registrations and no user
    code): ``<=`` when ``me`` is in ``t``'s MRO, ``>=`` when ``t`` is in ``me``'s."""
    same = t is me
    if op == "==":
        return same
    if op == "!=":
        return not same
    if op in ("<", "<="):
        below = same or any(m is me for m in _mro(t))
        return below and not (op == "<" and same)
    above = same or any(m is t for m in _mro(me))
    return above and not (op == ">" and same)


def alt_brief(op: str, brief: str) -> str:
    """Heapy's brief of ``kind.alt(op)``: ``~brief`` for ``!=``, else ``[op brief]``."""
    if op == "==":
        return brief
    return f"~{brief}" if op == "!=" else f"[{op} {brief}]"


#: How Heapy words a type kind's ``.alt(op)`` in briefs (``<strict subtype of int>``).
TYPE_ALT_WORDS = {"<": "strict subtype of", "<=": "subtype of", ">": "strict supertype of", ">=": "supertype of"}


def _type_brief(t: type, op: str) -> str:
    name = kind_names.type_name(t)
    words = TYPE_ALT_WORDS.get(op)
    return f"<{words} {name}>" if words else alt_brief(op, name)


def _alt_check(op: str) -> None:
    if op not in ALT_OPS:
        raise ValueError(f"alt() takes one of {', '.join(repr(o) for o in ALT_OPS)}, not {op!r}")


class TypeKind(Kind):
    """Objects whose type is exactly ``t`` (``h.Type(t)``); ``.alt('<')`` etc. compare types
    by subclassing."""

    __slots__ = ("type", "op")

    def __init__(self, session: Session, t: type, op: str = "==") -> None:
        super().__init__(session)
        t = session._source.resolve_type(t)
        if not isinstance(t, (type, _native.TypeRef)):
            raise TypeError(f"Type() takes a type, not {type(t).__name__}")
        self.type = t
        self.op = op

    def _matches(self, t: type) -> bool:
        return type_compares(t, self.type, self.op)

    def _select(self, nodes: NodeSet) -> NodeSet:
        return nodes.select_kind("type", self.op, self.type)

    def _contains(self, obj: object) -> bool:
        return self._matches(type(obj))

    @property
    def brief(self) -> str:
        return _type_brief(self.type, self.op)

    def _body(self) -> str:
        base = f"{{p}}Type({type_expr(self.type)})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"

    def _key(self) -> tuple[Any, ...]:
        # the type itself (by identity): two classes may print alike
        return (type_identity(self.type), self.op)

    @property
    def dictof(self) -> DictOfKind:
        """Dicts owned by instances of this type (of a subtype etc. after ``.alt``)."""
        return DictOfKind(self._session, self.type, self.op)

    def _alt(self, op: str) -> TypeKind:
        return TypeKind(self._session, self.type, op)


class ClassKind(TypeKind):
    """Clodo's class kind: objects of exactly type ``C`` (dicts are classed by owner)."""

    __slots__ = ()

    def _select(self, nodes: NodeSet) -> NodeSet:
        return nodes.select_kind("class", self.op, self.type)

    def _contains(self, obj: object) -> bool:
        t = type(obj)
        return t is not dict and self._matches(t)  # dicts are classed by their owner

    def _body(self) -> str:
        base = f"{{p}}Clodo({type_expr(self.type)})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"

    def _alt(self, op: str) -> ClassKind:
        return ClassKind(self._session, self.type, op)


class DictOfKind(Kind):
    """Dicts that are the ``__dict__`` of an instance of ``owner`` (None: dicts no object
    owns) — ``h.Clodo(dictof=C)`` / ``h.Clodo(dictof=())``; ``.alt('<=')`` etc. compare
    the owner's type by subclassing."""

    __slots__ = ("owner", "op")

    def __init__(self, session: Session, owner: type | None, op: str = "==") -> None:
        super().__init__(session)
        self.owner = None if owner is None else session._source.resolve_type(owner)
        self.op = op

    def _owner_matches(self, t: type | None) -> bool:
        if self.op == "==" or self.owner is None or t is None:
            return (t is self.owner) == (self.op != "!=")
        return TypeKind(self._session, self.owner, self.op)._matches(t)

    def _select(self, nodes: NodeSet) -> NodeSet:
        return nodes.select_kind("dictof", self.op, self.owner)

    def _contains(self, obj: object) -> bool:
        if type(obj) is not dict:
            return False
        return self._owner_matches(_owner_type(obj))

    def _alt(self, op: str) -> DictOfKind:
        return DictOfKind(self._session, self.owner, op)

    @property
    def brief(self) -> str:
        if self.owner is None:
            return alt_brief(self.op, "dict (no owner)")
        return f"dict of {_type_brief(self.owner, self.op)}"

    def _body(self) -> str:
        base = "{p}Clodo(dictof=())" if self.owner is None else f"{{p}}Clodo(dictof={type_expr(self.owner)})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"

    def _key(self) -> tuple[Any, ...]:
        return (None if self.owner is None else type_identity(self.owner), self.op)


def _owner_type(d: dict[Any, Any]) -> type | None:
    """Type of the object whose existing ``__dict__`` is ``d`` (never materialises one)."""
    import gc

    for r in gc.get_referrers(d):
        if _native.owned_dict(r) is d:
            return type(r)
    if sys.version_info >= (3, 13):
        # 3.13 does not report a dict materialised over valid inline values as a
        # referent of its owner: look at every GC object (slow, dicts only).
        for r in gc.get_objects():
            if _native.owned_dict(r) is d:
                return type(r)
    return None


class SizeKind(Kind):
    """Objects of individual size ``size`` (``h.Size(56)``); ``.alt('<')`` = smaller."""

    __slots__ = ("size", "op")

    def __init__(self, session: Session, size: int, op: str = "==") -> None:
        super().__init__(session)
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"Size() takes a non-negative int, not {size!r}")
        self.size = size
        self.op = op

    def _matches(self, n: int) -> bool:
        return {
            "==": n == self.size,
            "!=": n != self.size,
            "<": n < self.size,
            "<=": n <= self.size,
            ">": n > self.size,
            ">=": n >= self.size,
        }[self.op]

    def _select(self, nodes: NodeSet) -> NodeSet:
        return nodes.select_kind("size", self.op, self.size)

    def _contains(self, obj: object) -> bool:
        return self._matches(self._session.iso(obj).size)

    @property
    def brief(self) -> str:
        if self.op == "!=":
            return f"~<size = {self.size}>"
        return f"<size = {self.size}>" if self.op == "==" else f"<size {self.op} {self.size}>"

    def _body(self) -> str:
        base = f"{{p}}Size({self.size})"
        return base if self.op == "==" else f"{base}.alt({self.op!r})"

    def _alt(self, op: str) -> SizeKind:
        return SizeKind(self._session, self.size, op)


class ModuleKind(Kind):
    """The module(s) named ``name`` (``h.Module('sys')``)."""

    __slots__ = ("name",)

    def __init__(self, session: Session, name: str) -> None:
        super().__init__(session)
        self.name = name

    def _select(self, nodes: NodeSet) -> NodeSet:
        return nodes.select_kind("module", "==", self.name)

    def _contains(self, obj: object) -> bool:
        return isinstance(obj, types.ModuleType) and getattr(obj, "__name__", None) == self.name

    @property
    def brief(self) -> str:
        return self.name

    def _body(self) -> str:
        return f"{{p}}Module({self.name!r})"


class AnythingKind(Kind):
    __slots__ = ()

    def _select(self, nodes: NodeSet) -> NodeSet:
        return nodes

    def _contains(self, obj: object) -> bool:
        return True

    brief = property(lambda self: "<Anything>")  # type: ignore[assignment]

    def _body(self) -> str:
        return "{p}Anything"


class NothingKind(Kind):
    __slots__ = ()

    def _select(self, nodes: NodeSet) -> NodeSet:
        return nodes.difference(nodes)

    def _contains(self, obj: object) -> bool:
        return False

    brief = property(lambda self: "<Nothing>")  # type: ignore[assignment]

    def _body(self) -> str:
        return "{p}Nothing"

    @property
    def dictof(self) -> DictOfKind:
        """The dicts no object owns (``dict (no owner)``)."""
        return DictOfKind(self._session, None)


# -- symbolic combinations -------------------------------------------------------------


def _brief_of(x: UniSet) -> str:
    return x.brief if hasattr(x, "brief") else "<set>"


class Combination(Kind):
    """A symbolic combination of kinds (and sets)."""

    __slots__ = ("parts",)
    op_symbol = "?"

    def __init__(self, *parts: UniSet) -> None:
        super().__init__(parts[0]._session_of())
        self.parts = parts

    @property
    def brief(self) -> str:
        return "(" + f" {self.op_symbol} ".join(_brief_of(p) for p in self.parts) + ")"

    def __repr__(self) -> str:
        return "(" + f" {self.op_symbol} ".join(repr(p) for p in self.parts) + ")"

    def _key(self) -> tuple[Any, ...]:
        return tuple(kind_key(p) for p in self.parts)


class Union(Combination):
    __slots__ = ()
    op_symbol = "|"

    def _select(self, nodes: NodeSet) -> NodeSet:
        out = self.parts[0]._select(nodes)
        for p in self.parts[1:]:
            out = out.union(p._select(nodes))
        return out

    def _contains(self, obj: object) -> bool:
        return any(p._contains(obj) for p in self.parts)


class Intersection(Combination):
    __slots__ = ()
    op_symbol = "&"

    def _select(self, nodes: NodeSet) -> NodeSet:
        out = nodes
        for p in self.parts:
            out = p._select(out)
        return out

    def _contains(self, obj: object) -> bool:
        return all(p._contains(obj) for p in self.parts)


class SymmetricDifference(Combination):
    __slots__ = ()
    op_symbol = "^"

    def _select(self, nodes: NodeSet) -> NodeSet:
        return self.parts[0]._select(nodes).symmetric_difference(self.parts[1]._select(nodes))

    def _contains(self, obj: object) -> bool:
        return self.parts[0]._contains(obj) != self.parts[1]._contains(obj)


class Complement(Kind):
    """Everything not in ``of`` (``~x``)."""

    __slots__ = ("of",)

    def __init__(self, of: UniSet) -> None:
        super().__init__(of._session_of())
        self.of = of

    def _select(self, nodes: NodeSet) -> NodeSet:
        return nodes.difference(self.of._select(nodes))

    def _contains(self, obj: object) -> bool:
        return not self.of._contains(obj)

    @property
    def brief(self) -> str:
        return "~" + _brief_of(self.of)

    def __repr__(self) -> str:
        return "~" + repr(self.of)

    def _key(self) -> tuple[Any, ...]:
        return (kind_key(self.of),)

    def __invert__(self) -> UniSet:
        return self.of


# -- equivalence relations ---------------------------------------------------------------

ER_NAMES = ("Clodo", "Type", "Size", "Id", "Module", "Unity")


def minimals(relations: list[Relation]) -> list[Relation]:
    """The relations of which none in the list is strictly finer, without repeats, in
    order (Heapy's ``minimals``: ``h.Clodo & h.Type`` is ``h.Clodo``)."""
    out: list[Relation] = []
    for x in relations:
        if any(a <= x and not x <= a for a in relations):
            continue
        if not any(a <= x for a in out):
            out.append(x)
    return out


class Relation:
    """What every equivalence relation of a session has (``h.Type``, ``h.Rcs``,
    ``h.findex(...)``, products, ``.dictof``, ``.refdby``): Heapy's refinement order,
    products, and the relations derived from it.

    ``a <= b`` when b is one of the relations a refines by construction, as Heapy defines
    it: a product refines its factors, Clodo refines Type, every relation refines Unity
    (``h.Id <= h.Clodo`` is false in Heapy: only these declared refinements count)."""

    __slots__ = ()

    _session: Session

    def _key(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _factors(self) -> list[Relation]:
        """The relations a product is made of (a relation is its own single factor)."""
        return [self]

    def _supers(self) -> list[Relation]:
        """The relations this one refines, itself included (Heapy's super-classifiers)."""
        return [self, self._session.Unity]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Relation) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __le__(self, other: object) -> bool:
        """Finer than or equal to ``other`` (Heapy's order)."""
        if not isinstance(other, Relation):
            return NotImplemented
        return any(s == other for s in self._supers())

    def __lt__(self, other: object) -> bool:
        """Strictly finer (``h.Clodo < h.Type < h.Unity``, ``h.Size & h.Type < h.Size``)."""
        if not isinstance(other, Relation):
            return NotImplemented
        return self <= other and not other <= self

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Relation):
            return NotImplemented
        return other <= self

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Relation):
            return NotImplemented
        return other < self

    def __and__(self, other: object) -> Relation:
        """The product relation (classes are tuples of classes), without the factors
        another factor refines."""
        if not isinstance(other, Relation):
            return NotImplemented
        factors = minimals(self._factors() + other._factors())
        if len(factors) == 1:
            return factors[0]
        native = [f for f in factors if isinstance(f, EquivalenceRelation) and "&" not in f.name]
        if len(native) == len(factors) <= MAX_FACTORS and all(f.name != "Id" for f in native):
            return EquivalenceRelation(self._session, "&".join(f.name for f in native))
        return self._session._product(factors)

    @property
    def dictof(self) -> OwnedDictRelation:
        """Dicts classed by the class (under this relation) of the object owning them;
        ``~dict`` for the rest, ``dict (no owner)`` for dicts no object owns."""
        return self._session._dicts_by_owner(self)

    @property
    def refdby(self) -> Referrers:
        """Objects classed by the set of classes (under this relation) of the objects
        referring to them (Heapy's Rcs is ``h.Clodo.refdby``)."""
        return self._session._referred_by(self)

    def sokind(self, *kinds: UniSet) -> SetOfKinds:
        """A set of kinds of this relation; ``.refdby`` makes the Rcs kind of it."""
        return self._session._set_of_kinds(self.refdby, kinds)


MAX_FACTORS = 4  # products of native relations are computed natively up to this size


@hidden_type
class EquivalenceRelation(Relation):
    """A classifier of the session (``h.Type``, ``h.Clodo``, ...): call it to make kinds,
    pass it to ``x.by()`` to partition. ``h.Type & h.Size`` is the product relation
    (classes are pairs), finer than each factor."""

    __slots__ = ("name", "_session")

    def __init__(self, session: Session, name: str) -> None:
        factors = name.split("&")
        for f in factors:
            if f not in ER_NAMES:
                raise ValueError(f"unknown equivalence relation {f!r}; expected one of {', '.join(ER_NAMES)}")
        self.name = name
        self._session = session

    @property
    def factors(self) -> list[str]:
        return self.name.split("&")

    def __repr__(self) -> str:
        p = reprefix(self._session)
        if len(self.factors) == 1:
            return f"{p}{self.name}"
        return "(" + " & ".join(f"{p}{f}" for f in self.factors) + ")"

    def _key(self) -> tuple[Any, ...]:
        return ("er", self.name)

    def _factors(self) -> list[Relation]:
        return [EquivalenceRelation(self._session, f) for f in self.factors]

    def _supers(self) -> list[Relation]:
        if len(self.factors) > 1:
            return [self, *(s for f in self._factors() for s in f._supers())]
        if self.name == "Unity":
            return [self]
        if self.name == "Clodo":
            return [self, self._session.Type, self._session.Unity]
        return [self, self._session.Unity]

    def __call__(self, *args: Any, **kwargs: Any) -> UniSet:
        s = self._session
        name = self.name
        if "&" in name:
            raise TypeError("make kinds of a product with the factors: (h.Type(t) & h.Size(n))")
        if name == "Type":
            (t,) = args
            return TypeKind(s, t)
        if name == "Clodo":
            if "dictof" in kwargs:
                owner = kwargs.pop("dictof")
                if args or kwargs:
                    raise TypeError("Clodo(dictof=...) takes no other arguments")
                return DictOfKind(s, None if owner == () else owner)
            (c,) = args
            if c is dict:
                raise TypeError("dict is not a class of Clodo: use Clodo(dictof=C) or Clodo(dictof=())")
            return ClassKind(s, c)
        if name == "Size":
            (n,) = args
            return SizeKind(s, n)
        if name == "Module":
            (m,) = args
            return ModuleKind(s, m if isinstance(m, str) else m.__name__)
        if name == "Unity":
            return AnythingKind(s)
        if name == "Id":
            return s.iso(*args)
        raise AssertionError(name)


@hidden_type
class ComputedRelation(Relation):
    """Base of the relations computed in Python (``relations.py``): a set partitioned by
    one asks the relation for its rows (``partition``) and their kinds
    (``kinds_of_rows``). Here, so that sets know it without importing those relations."""

    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def _key(self) -> tuple[Any, ...]:
        return (type(self).__name__,)

    def partition(self, x: IdentitySet) -> Any:
        raise NotImplementedError

    def kinds_of_rows(self, part: Any) -> list[UniSet]:
        """The kind of each row of a partition this relation made."""
        return part.kinds()
