"""Queries evaluated in Rust: kind predicates with ``.alt`` comparisons, whole partitions,
byid, capture reuse and Idset partitions. Results are compared with a model computed
in Python over the same objects, and with guppy3 where guppy3 answers the question."""

from __future__ import annotations

import collections.abc
import itertools
import sys
from typing import Any

import pytest

from heapscope import hpy
from heapscope.kinds import ALT_OPS, type_compares


class Base:
    pass


class Mid(Base):
    pass


class Leaf(Mid):
    __slots__ = ("x",)


class Other:
    pass


OBJECTS: list[Any] = [
    Base(), Mid(), Mid(), Leaf(), Other(), {}, {"k": 1}, [], [1, 2, 3], (1, 2), 1.5, 10**20, "abc", b"xy",
    Base, Mid, Leaf, sys, collections.OrderedDict(a=1),
]
OBJECTS += [o.__dict__ for o in OBJECTS[:3]]  # dicts owned by Base / Mid instances


@pytest.fixture(scope="module")
def h() -> Any:
    return hpy()


@pytest.fixture(scope="module")
def x(h: Any) -> Any:
    return h.iso(*OBJECTS)


def members(s: Any) -> set[int]:
    return {id(o) for o in s.nodes}


def model(keep: Any) -> set[int]:
    return {id(o) for o in OBJECTS if keep(o)}


# -- kind predicates ---------------------------------------------------------------------


@pytest.mark.parametrize("op", ALT_OPS)
@pytest.mark.parametrize("target", [object, Base, Mid, Leaf, dict, int, type, collections.abc.Mapping])
def test_type_alt_is_subclassing_over_the_mro(h: Any, x: Any, op: str, target: type) -> None:
    got = members(x & h.Type(target).alt(op))
    assert got == model(lambda o: type_compares(type(o), target, op))
    # Clodo's classes leave dicts out: those are classed by their owner
    got = members(x & h.Clodo(target).alt(op)) if target is not dict else None
    if got is not None and op == "!=":
        # as in guppy3, alt('!=') is the complement, which holds the dicts
        assert got == model(lambda o: type(o) is dict or type(o) is not target)
    elif got is not None:
        assert got == model(lambda o: type(o) is not dict and type_compares(type(o), target, op))


def test_type_compares_as_guppy3(h: Any, x: Any) -> None:
    """guppy3 compares types over the MRO too: no ABC registrations (dict is not a
    Mapping here) and no ``__subclasscheck__``."""
    guppy = pytest.importorskip("guppy")
    g = guppy.hpy()
    gx = g.iso(*OBJECTS)
    for target, op in itertools.product([object, Base, Mid, Leaf, int, collections.abc.Mapping], ALT_OPS):
        if op in ("==", "!="):
            continue  # guppy3's Type(...).alt takes the four order comparisons
        want = {id(o) for o in (gx & g.Type(target).alt(op)).nodes}
        assert members(x & h.Type(target).alt(op)) == want, (target, op)
    assert members(x & h.Type(collections.abc.Mapping).alt(">=")) == set()


def test_no_subclasscheck_runs(h: Any) -> None:
    calls: list[Any] = []

    class Meta(type):
        def __subclasscheck__(cls, other: Any) -> bool:
            calls.append(other)
            return True

        def __instancecheck__(cls, other: Any) -> bool:
            calls.append(other)
            return True

    class Watched(metaclass=Meta):
        pass

    class Below(Watched):
        pass

    objs = [Watched(), Below(), [], 1]
    s = h.iso(*objs)
    assert members(s & h.Type(Watched).alt("<=")) == {id(objs[0]), id(objs[1])}
    assert members(s & h.Type(Below).alt(">")) == {id(objs[0])}
    assert objs[1] in h.Type(Watched).alt("<") and [] not in h.Type(Watched).alt("<")
    assert calls == []


@pytest.mark.parametrize("op", ALT_OPS)
def test_dictof_alt(h: Any, x: Any, op: str) -> None:
    owners = {id(o.__dict__): type(o) for o in OBJECTS[:3]}

    def keep(target: type | None) -> Any:
        def k(o: Any) -> bool:
            if op == "!=":  # the complement: everything but the dicts of target
                return not (type(o) is dict and owners.get(id(o)) is target)
            if type(o) is not dict:
                return False
            t = owners.get(id(o))
            if op == "==" or target is None or t is None:
                return t is target
            return type_compares(t, target, op)

        return k

    for target in (Base, Mid, object, None):
        kind = h.Clodo(dictof=target if target is not None else ())
        assert members(x & kind.alt(op)) == model(keep(target)), target


@pytest.mark.parametrize("op", ALT_OPS)
def test_size_alt(h: Any, x: Any, op: str) -> None:
    sizes = {id(o): h.iso(o).size for o in OBJECTS}
    for n in sorted(set(sizes.values()))[::3]:
        want = {i for i, s in sizes.items() if {"==": s == n, "!=": s != n, "<": s < n,
                                                  "<=": s <= n, ">": s > n, ">=": s >= n}[op]}
        assert members(x & h.Size(n).alt(op)) == want


def test_size_alt_as_guppy3_on_numbers(h: Any) -> None:
    """Sizes of ints, floats and strs agree with guppy3; so do the selections."""
    guppy = pytest.importorskip("guppy")
    g = guppy.hpy()
    objs = [1.5, 10**5, 10**40, "a", "a" * 100, b"", (1,), ()]
    for n, op in itertools.product((24, 28, 49, 60), ("<", "<=", ">", ">=")):
        want = {id(o) for o in (g.iso(*objs) & g.Size(n).alt(op)).nodes}
        assert members(h.iso(*objs) & h.Size(n).alt(op)) == want, (n, op)


def test_module_kind(h: Any, x: Any) -> None:
    assert (x & h.Module("sys")).theone is sys
    assert (x & h.Module("nothing here")).count == 0


# -- referrer classes and labels as sets -------------------------------------------------


def _twin_classes() -> tuple[type, type]:
    def make() -> type:
        class Twin:  # the same module and qualname each time
            __slots__ = ("held",)  # the instance itself refers to `held`, on every version

        return Twin

    return make(), make()


TWINS: list[Any] = []


def test_rcs_tells_classes_apart_by_identity_not_by_name(h: Any) -> None:
    one, two = _twin_classes()
    assert one.__qualname__ == two.__qualname__ and one is not two
    TWINS[:] = [one(), two()]
    TWINS[0].held, TWINS[1].held = bytearray(1), bytearray(2)
    s = h.iso(TWINS[0].held, TWINS[1].held)  # held by the instances only (no local)
    assert (s & h.Rcs(h.Clodo(one))).theone is TWINS[0].held
    assert (s & h.Rcs(h.Clodo(two))).theone is TWINS[1].held
    assert (s & h.Rcs(h.Clodo(one)).alt("<=")).theone is TWINS[0].held
    # kinds of the two classes print alike but are different kinds
    assert repr(h.Type(one)) == repr(h.Type(two))
    assert h.Type(one) != h.Type(two) and h.Clodo(dictof=one) != h.Clodo(dictof=two)
    assert h.Rcs(h.Clodo(one)) != h.Rcs(h.Clodo(two))
    assert h.Type(one) == h.Type(one) and len({h.Type(one), h.Type(one), h.Type(two)}) == 2
    TWINS.clear()


HOLDERS: list[Any] = []


@pytest.mark.parametrize("op", ALT_OPS)
def test_rcs_alt_is_set_comparison(h: Any, op: str) -> None:
    # held by a list, a dict or both, and by nothing else (no local: 3.10's frames are
    # objects that would refer to them)
    HOLDERS[:] = [[bytearray(2), bytearray(4)], {"d": bytearray(3)}]
    HOLDERS[1]["b"] = HOLDERS[0][1]
    in_list, in_both, in_dict = id(HOLDERS[0][0]), id(HOLDERS[0][1]), id(HOLDERS[1]["d"])
    s = h.iso(HOLDERS[0][0], HOLDERS[1]["d"], HOLDERS[0][1])
    s_kinds = {in_list: {"list"}, in_dict: {"dict"}, in_both: {"list", "dict"}}
    for want in ({"list"}, {"dict"}, {"list", "dict"}, set()):
        kinds = [h.Clodo(list) if k == "list" else h.Clodo(dictof=()) for k in sorted(want)]
        got = members(s & h.Rcs(*kinds).alt(op))
        expect = {i for i, have in s_kinds.items() if {"==": have == want, "!=": have != want,
                                                         "<": have < want, "<=": have <= want,
                                                         ">": have > want, ">=": have >= want}[op]}
        assert got == expect, (want, op)
    HOLDERS.clear()


# -- whole partitions ----------------------------------------------------------------------


@pytest.mark.parametrize("er", ["Clodo", "Type", "Size", "Module", "Unity", "Type&Size", "Rcs", "Via"])
def test_parts_are_the_rows(h: Any, er: str) -> None:
    x = h.heap() & (h.Type(dict) | h.Type(list) | h.Type(tuple) | h.Type(Base).alt("<="))
    p = x.by(er)
    parts = p.parts
    assert len(parts) == len(p)
    assert [(r.count, r.size) for r in parts] == [(c, s) for _n, c, s in p.rows]
    for i in (0, len(p) // 2, len(p) - 1):
        assert parts[i] == p[i]
    # the rows partition the set
    total = parts[0]
    for r in parts[1:]:
        assert total.disjoint(r)
        total = total | r
    assert total == x
    if er in ("Clodo", "Type", "Size"):
        for part, kind in zip(parts, [r.kind for r in parts]):
            assert part == x & kind


def test_parts_is_a_sequence_of_the_rows(h: Any, x: Any) -> None:
    """x.parts makes rows as they are used; as a sequence it is guppy3's list of rows."""
    p = x.bytype
    parts = p.parts
    rows = [p[i] for i in range(len(p))]
    assert list(parts) == rows  # iterated a page at a time
    assert parts[-1] == rows[-1] and parts[::2] == rows[::2] and parts[2:5] == rows[2:5]
    assert parts[5:2] == []
    with pytest.raises(IndexError):
        parts[len(p)]
    assert repr(parts) == repr(rows)
    v = h.heap().byvia
    by_pages = list(v.parts)
    assert len(by_pages) == len(v) > type(parts).PAGE  # more rows than a page
    assert [(r.count, r.size) for r in by_pages] == [(c, s) for _n, c, s in v.rows]
    assert by_pages[len(v) // 2] == v[len(v) // 2]


def test_row_slices_union_the_rows(h: Any, x: Any) -> None:
    p = x.bysize
    assert p[1:4] == p[1] | p[2] | p[3]
    assert p[0:len(p)] == x


# -- byid ----------------------------------------------------------------------------------


def _byid_model(h: Any, objs: list[Any]) -> list[tuple[int, int]]:
    """Heapy's byid order computed directly: size descending, kind name (when mixed),
    then value / address / rendering: ``(id, size)`` per row."""
    from heapscope import kind_names

    kinds = {}
    sizes = {}
    x = h.iso(*objs)
    for row in x.byclodo.parts:
        name = str(row.kind.brief)
        for o in row.nodes:
            kinds[id(o)] = name
            sizes[id(o)] = row.size // row.count if row.count else 0
    for o in objs:
        sizes[id(o)] = h.iso(o).size
    mixed = len(set(kinds.values())) > 1

    def key(o: Any) -> Any:
        return (-sizes[id(o)], kinds[id(o)] if mixed else "", kind_names.sort_key(o))

    return [(id(o), sizes[id(o)]) for o in sorted(x.nodes, key=key)]


BYID_SETS = {
    "numbers": [3, 1, 2, 10**30, 10**31, -5, 2.5, 1.5, -0.0, True, False],
    "strings": ["b", "a", "ccc", "bb", "aa", "abc", b"zz", b"aa"],
    "mixed": [*OBJECTS, "x", "y", 1.0, 2.0, [1], [2], (3,), (4,), Base, Mid, len, sum, type, int],
}


@pytest.mark.parametrize("which", sorted(BYID_SETS))
def test_byid_order_is_heapys(h: Any, which: str) -> None:
    objs = BYID_SETS[which]
    x = h.iso(*objs).byid
    want = _byid_model(h, objs)
    got = [(id(r.theone), r.size) for r in x.parts]
    assert got == want
    # indexing follows the printed order; rows print the same objects
    assert [(id(x[i].theone), x[i].size) for i in range(len(x))] == want
    assert len(x) == x.count == len(want)
    table = str(x.all).splitlines()[2:]
    assert len(table) == len(want)
    sizes = [int(line.split()[1]) for line in table]
    assert sizes == [s for _, s in want]
    cumulative = [int(line.split()[3]) for line in table]
    assert cumulative == list(itertools.accumulate(sizes))


def test_byid_text_as_guppy3(h: Any) -> None:
    guppy = pytest.importorskip("guppy")
    g = guppy.hpy()
    for objs in (BYID_SETS["numbers"], BYID_SETS["strings"], [1.5, 2.5, 0.5, 1e300, -1.0]):
        assert str(h.iso(*objs).byid.all) == str(g.iso(*objs).byid.all)


def test_byid_of_a_heap_orders_only_what_it_shows(h: Any) -> None:
    """The first page of a whole heap's byid orders the clusters it shows; the rest of
    the rows keep their address order until asked for."""
    x = h.heap().byid
    first = str(x).splitlines()
    assert first[0].startswith(f"Set of {x.count} <mixed> objects.")
    part = x._partition()
    ordered = [part._rows.cluster(c)[4] for c in range(part._rows.cluster_count())]
    assert ordered.count("ids") + ordered.count("addresses") > len(ordered) - 20
    # any row later on is ordered on demand and prints as its set does
    last = x[x.count - 1]
    assert last.count == 1 and last.size == min(int(r.name) for r in x.bysize.rows)


# -- capture reuse ---------------------------------------------------------------------------

REUSED: list[Any] = []


def test_queries_reuse_a_held_dominator_trees_capture() -> None:
    h = hpy()
    REUSED[:] = [[bytearray(8)] for _ in range(3)]
    obj = REUSED[1][0]
    tree = h.dominator_tree()
    before = h._captures
    one = h.iso(obj)  # a capture of just obj (no edges)
    sp = one.sp
    assert "REUSED" in str(sp) and sp._nodes[0].graph is tree._graph
    assert any(r is REUSED[1] for r in one.referrers.nodes)
    assert h.iso(REUSED[2]).domisize == tree.retained_size(REUSED[2])
    assert h._captures == before + 2  # the two iso() captures, no capture with edges
    # the snapshot's answers: an object made after the tree is not in its capture, so
    # the query captures afresh
    late = bytearray(9)
    REUSED.append([late])
    assert "REUSED" in str(h.iso(late).sp)
    assert h._captures == before + 4
    # heap() refreshes: later queries no longer use the tree's capture
    x = h.heap()
    assert h.iso(obj).sp._nodes[0].graph is not tree._graph
    del x
    # without a held tree (or census) each query captures afresh
    h2 = hpy()
    h2.dominator_tree()
    n = h2._captures
    str(h2.iso(obj).sp)
    assert h2._captures == n + 2
    REUSED.clear()


def test_idset_partition_takes_no_capture_per_member(h: Any) -> None:
    objs = [bytearray(3), [1, 2], "text", 12345, (1,), {"k": 1}]
    x = h.iso(*objs)
    before = h._captures
    text = str(x.byidset.all)
    parts = x.byidset.parts
    assert h._captures == before
    # the rows are what they were: each member's own brief, as a set of x's capture
    briefs = sorted(h.iso(o).brief for o in objs)
    assert sorted(p.brief for p in parts) == briefs
    assert all(b in text for b in briefs)
    assert all(p.count == 1 and p._nodes.same_heap(x._nodes) for p in parts)


class Slotted:
    __slots__ = ("ref",)


class Attrs:
    pass


def test_paths_label_only_the_nodes_on_them() -> None:
    """A path query names the references of its paths' nodes only; the paths read as
    they do once every edge of the capture is labelled."""
    h = hpy()
    slotted, attrs = Slotted(), Attrs()
    targets = [Attrs() for _ in range(5)]  # hashable (one is a set member)
    slotted.ref, attrs.ref = targets[0], targets[1]
    REUSED[:] = [slotted, attrs, {"key": targets[2], 7: [targets[3]]}, frozenset([targets[4]])]
    del slotted, attrs
    x = h.heap()  # queries share one capture while x is held
    graph = None
    before = []
    for t in targets:
        sp = h.iso(t).sp
        graph = sp._nodes[0].graph if graph is None else graph
        assert sp._nodes[0].graph is graph
        before.append([str(p) for p in sp.iter()])
    assert not graph.labelled  # no labels of the whole heap were made
    assert all(paths and all("REUSED" in p for p in paths) for paths in before), before
    assert str(x.byvia)  # labels every edge of the same capture
    assert graph.labelled
    after = [[str(p) for p in h.iso(t).sp.iter()] for t in targets]
    assert after == before
    del x
    REUSED.clear()
