"""Kinds and equivalence relations: reprs, selection, membership, the set algebra."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heapscope import hpy
from heapscope.kinds import ClassKind, DictOfKind


class Owner:
    def __init__(self, i: int) -> None:
        self.i = i


OWNERS = [Owner(i) for i in range(3)]
OWNED = [o.__dict__ for o in OWNERS]  # materialised on purpose: real "dict of Owner"
POOL = [*OWNERS, *OWNED, {}, {"k": 1}, [], [1, 2], (1,), 1.5, 2.5, "ab", "abcdef", b"x", sys, 10**30, Owner]


@pytest.fixture(scope="module")
def h():
    return hpy()


def test_reprs_round_trip_through_eval(h):
    kinds = [
        h.Type(dict), h.Type(Owner), h.Clodo(Owner), h.Clodo(dictof=Owner), h.Clodo(dictof=()), h.Size(56),
        h.Module("sys"), h.Anything, h.Nothing, ~h.Type(dict), h.Type(dict) | h.Size(64),
        h.Type(list) & h.Size(56).alt("<="), h.Type(object).alt(">="),
    ]
    namespace = {"h": h, "hpy": hpy, "tests": sys.modules["tests"]}  # types print as module.qualname
    for k in kinds:
        text = repr(k).replace("hpy().", "h.")
        again = eval(text, namespace)  # noqa: S307 - the point of the test
        assert again == k and repr(again) == repr(k), text


def test_clodo_rejects_dict(h):
    with pytest.raises(TypeError, match="dictof"):
        h.Clodo(dict)


@pytest.mark.parametrize("er", ["Clodo", "Type", "Size", "Module", "Unity", "Id"])
def test_selection_agrees_with_classification(h, er):
    x = h.idset(POOL).by(er)
    total = 0
    for i in range(len(x)):
        row = x[i]
        kind = row.kind
        assert (x & kind) == row, (er, i, kind)
        assert all(o in kind for o in row.nodes), (er, kind)
        total += row.count
    assert total == x.count


def test_membership_agrees_with_selection(h):
    x = h.idset(POOL)
    kinds = [h.Type(dict), h.Clodo(dictof=Owner), h.Clodo(dictof=()), h.Size(24), h.Size(64).alt("<"),
             h.Type(object).alt("<"), h.Module("sys"), ~h.Type(float)]
    for k in kinds:
        selected = x & k
        for o in x.nodes:
            assert (o in k) == (o in selected), (k, type(o))


def test_dict_ownership_without_materialising(h):
    x = h.idset(POOL)
    assert (x & h.Clodo(dictof=Owner)).count == 3
    assert (x & h.Clodo(dictof=())).count == 2
    assert isinstance((x & h.Clodo(dictof=Owner)).kind, DictOfKind)
    assert isinstance(h.iso(OWNERS[0]).kind, ClassKind)


def test_alt(h):
    x = h.idset(POOL)
    assert (x & h.Type(object).alt("<")).count == x.count - 0  # every type is a strict subtype of object
    assert (x & h.Type(dict).alt("<=")).count == 5
    smaller = x & h.Size(56).alt("<")
    assert all(smaller._nodes.size_of(o) < 56 for o in smaller.nodes)
    assert (x & h.Size(56).alt(">=")).count + smaller.count == x.count
    with pytest.raises(ValueError):
        h.Size(1).alt("<<")


def test_refinement_order(h):
    # Heapy's order: only declared refinements (Clodo of Type, products of their factors,
    # everything of Unity); tests/test_heapy_api.py compares every pair with guppy3
    assert h.Clodo < h.Type < h.Unity
    assert h.Size < h.Unity and not h.Id < h.Clodo
    assert not h.Type < h.Clodo and not h.Size < h.Type
    assert h.Type <= h.Type and h.Unity >= h.Size


subsets = st.lists(st.integers(0, len(POOL) - 1), unique=True)


def kind_strategy(h):
    leaves = st.sampled_from([
        h.Type(dict), h.Type(list), h.Clodo(dictof=Owner), h.Clodo(dictof=()), h.Size(24), h.Size(64).alt("<"),
        h.Module("sys"), h.Anything, h.Nothing, h.Clodo(Owner),
    ])
    return st.recursive(leaves, lambda inner: st.one_of(
        st.builds(lambda a, b: a | b, inner, inner),
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a ^ b, inner, inner),
        st.builds(lambda a: ~a, inner),
    ), max_leaves=4)


H = hpy()


@settings(max_examples=60, deadline=None)
@given(a=subsets, b=subsets, k1=kind_strategy(H), k2=kind_strategy(H))
def test_algebra_laws(a, b, k1, k2):
    x = H.idset([POOL[i] for i in a])
    y = H.idset([POOL[i] for i in b])
    # selection is a homomorphism from the kind algebra to the set algebra
    assert x & (k1 | k2) == (x & k1) | (x & k2)
    assert x & (k1 & k2) == (x & k1) & (x & k2)
    assert x & (k1 ^ k2) == (x & k1) ^ (x & k2)
    assert x & ~k1 == x - k1
    assert x & ~(k1 | k2) == (x - k1) - k2  # De Morgan
    assert x & ~~k1 == x & k1
    # sets: absorption, distributivity
    assert x | (x & y) == x and x & (x | y) == x
    assert x & (y | (x & k1)) == (x & y) | (x & k1)
    assert (x & k1) <= x and ((x & k1) <= k1)
    assert x.disjoint(x & ~k1) == ((x & k1).count == x.count) or (x & k1).count < x.count
    for o in x.nodes:
        assert (o in (k1 | k2)) == ((o in k1) or (o in k2))


def test_kinds_are_hidden_from_heap(h):
    k = h.Type(dict) | h.Size(3)
    er = h.Type
    x = h.heap()
    assert k not in x and er not in x


def test_product_relation(h):
    x = h.idset(POOL)
    y = x.by(h.Type & h.Size)
    assert repr(y.er).endswith("Size)") and y.er == h.Type & h.Size
    assert str(y).splitlines()[1].endswith("Type & Individual Size")
    assert x.by("Type&Size").er == y.er
    for i in range(len(y)):
        assert (x & y[i].kind) == y[i]
    assert (h.Size & h.Type) < h.Size and (h.Type & h.Size) < h.Type and h.Clodo & h.Size < h.Type
    assert not h.Type < (h.Type & h.Size)
    with pytest.raises(ValueError):
        x.by("Type&Nope")
    with pytest.raises(ValueError):
        x.by("Id&Size")


def test_product_text_as_guppy3(h):
    guppy = pytest.importorskip("guppy")
    objs = [1.5, 2.5, [], [1], "ab", (1, 2)]
    g = guppy.hpy()
    assert str(h.idset(objs).by("Type&Size").all) == str(g.idset(objs).by("Type&Size").all)


class SubOwner(Owner):
    pass


def test_dictof_alt_compares_owner_types(h):
    sub = SubOwner(9)
    d = sub.__dict__
    x = h.idset(POOL + [d])
    assert (x & h.Clodo(dictof=Owner)).count == 3
    assert (x & h.Clodo(dictof=Owner).alt("<=")).count == 4
    assert (x & h.Clodo(dictof=Owner).alt("<")).theone is d
    assert d in h.Clodo(dictof=Owner).alt("<") and OWNED[0] not in h.Clodo(dictof=Owner).alt("<")
    again = eval(repr(h.Clodo(dictof=Owner).alt("<")).replace("hpy().", "h."), {"h": h, "tests": sys.modules["tests"]})
    assert again == h.Clodo(dictof=Owner).alt("<")
